/// The second source article's `cal_lrp`, exactly as its code runs (not as its author meant it).
///
/// The article lists a network's modules and walks them backwards:
///
/// - BatchNorm2d: hands on what the module above produced (the first entry when that is a list);
/// - Sequential: recurses into its modules, starting from their input;
/// - BasicBlock: recurses into the chain conv1, bn1, relu, conv2, bn2 (no shortcut, no last ReLU);
/// - any other module, from its input x and its own output y:
///
///       z = layer(x),   s = y / (z + 10⁻⁹),   c = ∂(Σ z ⊙ s)/∂x = Jᵀ s,   R = x ⊙ c
///
/// Since y is the same layer's output, s = z/(z + 10⁻⁹) ≈ 1 wherever z ≠ 0, and 0 where z = 0.
/// The relevance of the module above (`lrp_outputs[i+1]`) is read only by BatchNorm, and
/// BatchNorm passes it to the module below, which never reads it. So the input relevance is
///
///       R₀ = x ⊙ conv1ᵀ(s₀),   s₀ = z₀ / (z₀ + 10⁻⁹),   z₀ = conv1(x)
///
/// whatever relevance the code is started with: the same map for every class and every target.
/// The lesson checks both facts (`ArticleLRPTrace.inputRelevance`, `firstLayerReference`).
public enum ArticleLRP {
    /// The stabiliser the article adds to z before dividing.
    public static let stabilizer: Float = 1e-9

    /// One entry of the article's `lrp_outputs`: a tensor, or the list a recursion returned.
    public indirect enum Entry {
        case tensor(Tensor)
        case list([Entry])

        /// `lrp_outputs[i+1][0] if isinstance(lrp_outputs[i+1], list) else lrp_outputs[i+1]`
        var firstOrSelf: Entry {
            if case let .list(entries) = self, let first = entries.first { return first }
            return self
        }

        /// The tensor at the front: for a list, its first entry's, recursively.
        public var leadingTensor: Tensor? {
            switch self {
            case let .tensor(tensor): return tensor
            case let .list(entries): return entries.first?.leadingTensor
            }
        }
    }

    /// Runs `cal_lrp(sequential, input)` with `lrp_outputs[-1]` replaced by `startingRelevance`
    /// (the article puts the network's own output there). Returns `lrp_outputs`, whose first
    /// entry is the input relevance.
    ///
    /// - Parameters:
    ///   - network: the module list, e.g. a ResNet's backbone conv1 … layer3 or a whole small CNN
    ///   - input: [1, C, H, W]
    ///   - startingRelevance: what the code starts with at the top; nil for the network's output
    public static func run(_ network: Sequential, input: Tensor, startingRelevance: Tensor? = nil) -> [Entry] {
        let wasComputing = network.computesParameterGradients
        network.setParameterGradients(false)
        defer { network.setParameterGradients(wasComputing) }
        let modules = network.layers.map(\.layer)
        let top = startingRelevance ?? runChain(modules, input)
        return calLRP(modules, input: input, top: .tensor(top))
    }

    /// The input relevance of `run`: `lrp_outputs[0]`, [1, C, H, W].
    public static func inputRelevance(_ network: Sequential, input: Tensor, startingRelevance: Tensor? = nil) -> Tensor? {
        run(network, input: input, startingRelevance: startingRelevance).first?.leadingTensor
    }

    /// The modules `cal_lrp` recurses into: a Sequential's, or a basic residual block's body
    /// (the article's `[conv1, bn1, relu, conv2, bn2]`); nil for a module it treats as one layer.
    static func submodules(of layer: Layer) -> [Layer]? {
        switch layer {
        case let sequential as Sequential: return sequential.layers.map(\.layer)
        case let block as Residual where block.blockType != "Bottleneck": return block.body.map(\.layer)
        default: return nil
        }
    }

    static func runChain(_ modules: [Layer], _ input: Tensor) -> Tensor {
        modules.reduce(input) { $1.forward($0) }
    }

    static func calLRP(_ modules: [Layer], input: Tensor, top: Entry) -> [Entry] {
        // tensors[i] is the input of modules[i]; tensors[i + 1] its output.
        var tensors = [input]
        for module in modules { tensors.append(module.forward(tensors[tensors.count - 1])) }
        var outputs = [Entry?](repeating: nil, count: modules.count) + [top]
        for index in modules.indices.reversed() {
            let module = modules[index]
            if module is BatchNorm2d {
                outputs[index] = outputs[index + 1]?.firstOrSelf
            } else if let inner = submodules(of: module) {
                outputs[index] = .list(calLRP(inner, input: tensors[index], top: .tensor(runChain(inner, tensors[index]))))
            } else {
                outputs[index] = .tensor(ownOutputRule(module, input: tensors[index], output: tensors[index + 1]))
            }
        }
        return outputs.map { $0 ?? .list([]) }
    }

    /// R = x ⊙ Jᵀ s with s = y/(z + 10⁻⁹): the layer's input times the gradient of Σ z ⊙ s.
    static func ownOutputRule(_ layer: Layer, input: Tensor, output: Tensor) -> Tensor {
        let z = layer.forward(input)                                  // same shape as output
        var s = output                                                // s = y / (z + 10⁻⁹)
        for index in s.data.indices { s.data[index] = output.data[index] / (z.data[index] + stabilizer) }
        let c = layer.backward(s)                                     // Jᵀ s, shape of input
        return input * c
    }

    /// The closed form of the article's input relevance, computed directly from the first
    /// convolution with loops (no im2col, no backward pass):
    ///
    ///     R₀[c, h, w] = x[c, h, w] · Σ_o Σ_{u,v} W[o, c, u, v] · s₀[o, i, j],   h = i·stride + u − p
    ///
    /// - Parameters:
    ///   - conv: the network's first layer
    ///   - input: [1, C, H, W]
    /// - Returns: R₀ [1, C, H, W], and for every input value Σ |x · W · s₀| over its terms (the
    ///   scale of the rounding of its sum), and the most terms one value adds up.
    public static func firstLayerReference(_ conv: Conv2d, input: Tensor) -> (relevance: Tensor, termMagnitudes: Tensor, termCount: Int) {
        let z = conv.forward(input)                                   // [1, O, OH, OW]
        let outputHeight = z.shape[2], outputWidth = z.shape[3]
        let height = input.shape[2], width = input.shape[3]
        var s = z
        for index in s.data.indices { s.data[index] = z.data[index] / (z.data[index] + stabilizer) }
        var transposed = [Double](repeating: 0, count: input.data.count)   // conv1ᵀ(s₀)
        var magnitudes = [Double](repeating: 0, count: input.data.count)   // Σ |W · s₀|
        let kernel = conv.kernelSize, weight = conv.weight.value.data
        for o in 0..<conv.outputChannels {
            for i in 0..<outputHeight {
                for j in 0..<outputWidth {
                    let sValue = Double(s.data[(o * outputHeight + i) * outputWidth + j])
                    for c in 0..<conv.inputChannels {
                        for u in 0..<kernel {
                            let h = i * conv.stride + u - conv.padding
                            guard h >= 0 && h < height else { continue }
                            for v in 0..<kernel {
                                let w = j * conv.stride + v - conv.padding
                                guard w >= 0 && w < width else { continue }
                                let term = Double(weight[((o * conv.inputChannels + c) * kernel + u) * kernel + v]) * sValue
                                transposed[(c * height + h) * width + w] += term
                                magnitudes[(c * height + h) * width + w] += Swift.abs(term)
                            }
                        }
                    }
                }
            }
        }
        var relevance = input, termMagnitudes = input
        for index in input.data.indices {
            let x = Double(input.data[index])
            relevance.data[index] = Float(x * transposed[index])
            termMagnitudes.data[index] = Float(Swift.abs(x) * magnitudes[index])
        }
        let termsPerOutput = conv.outputChannels * ((kernel + conv.stride - 1) / conv.stride) * ((kernel + conv.stride - 1) / conv.stride)
        return (relevance, termMagnitudes, termsPerOutput)
    }
}
