/// How a ReLU passes the gradient back to its input, for y = max(0, x) and g = ∂L/∂y:
///
///     gradient:  ∂L/∂x = g · [x > 0]                 the true derivative (training, saliency, IG)
///     guided:    R_x   = max(g, 0) · [x > 0]          guided backpropagation (Springenberg et al. 2015)
///
/// The guided rule is not a derivative: it keeps a signal only where the forward pass let the
/// unit through (x > 0, as the gradient does) *and* where the signal coming back is positive
/// (as the "deconvnet" does), so that what reaches the input is what excites the class, with
/// the inhibiting paths cut at every ReLU. It is Captum's `GuidedBackprop`, whose hook replaces
/// a ReLU's input gradient g · [x > 0] by relu(g · [x > 0]), which is the same thing.
public enum ReLUGradientRule: String, CaseIterable, Sendable {
    case gradient
    case guided
}

/// Rectified linear unit, as torch.nn.ReLU.
///
///     y = max(0, x)          ∂L/∂x = ∂L/∂y · [x > 0]
///
/// At x = 0 the derivative is taken as 0, as PyTorch does. `gradientRule` replaces the
/// backward pass for explanation methods (guided backpropagation); it is `.gradient` except
/// while `ImageClassifier.withReLUGradientRule` runs.
public final class ReLU: Layer {
    struct Cache {
        /// Same shape as the input: the output, whose positive entries mark where x > 0.
        var output: Tensor
    }
    var cache: Cache?

    /// What `backward` computes (see `ReLUGradientRule`).
    public var gradientRule = ReLUGradientRule.gradient

    public override init() {}
    public override var typeName: String { "ReLU" }

    /// input [any shape] → output [same shape]
    public override func forward(_ input: Tensor) -> Tensor {
        // A select (C, at the vector width in use); NaN also becomes 0.
        let output = Tensor(shape: input.shape) { y in
            input.data.withUnsafeBufferPointer { x in
                Parallel.forRanges(x.count) { range in
                    LayerKernels.reluForward(x, y, range: range)
                }
            }
        }
        cache = GradientRecording.isEnabled ? Cache(output: output) : nil
        return output
    }

    /// outputGradient [same shape] → inputGradient [same shape], under `gradientRule`:
    /// g · [x > 0], or max(g, 0) · [x > 0] for the guided rule.
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        precondition(outputGradient.shape == cache.output.shape, "\(name): outputGradient shape \(outputGradient.shape)")
        let guided = gradientRule == .guided
        return Tensor(shape: outputGradient.shape) { dx in
            outputGradient.data.withUnsafeBufferPointer { dy in
                cache.output.data.withUnsafeBufferPointer { y in
                    // y > 0 exactly where x > 0.
                    Parallel.forRanges(dx.count) { range in
                        LayerKernels.reluBackward(output: y, outputGradient: dy, inputGradient: dx, range: range, guided: guided)
                    }
                }
            }
        }
    }
}

extension ImageClassifier {
    /// Runs `body` with every ReLU of the network passing gradients back under `rule`, and puts
    /// back each ReLU's previous rule afterwards, also when `body` throws. Guided
    /// backpropagation is `withReLUGradientRule(.guided) { saliency(…) }`.
    public func withReLUGradientRule<Result>(_ rule: ReLUGradientRule, _ body: () throws -> Result) rethrows -> Result {
        let relus = network.allLayers.compactMap { $0 as? ReLU }
        let previous = relus.map(\.gradientRule)
        for relu in relus { relu.gradientRule = rule }
        defer { for (relu, rule) in zip(relus, previous) { relu.gradientRule = rule } }
        return try body()
    }
}
