/// Fully connected layer, as torch.nn.Linear.
///
///     y[n, o] = b[o] + Σ_i x[n, i] · W[o, i]          (Y = X·Wᵀ + b)
///
/// Backward:
///
///     ∂L/∂W[o, i] += Σ_n ∂L/∂y[n, o] · x[n, i]      (∂L/∂W += (∂L/∂Y)ᵀ · X)
///     ∂L/∂b[o]    += Σ_n ∂L/∂y[n, o]
///     ∂L/∂x[n, i]  = Σ_o ∂L/∂y[n, o] · W[o, i]      (∂L/∂X = ∂L/∂Y · W)
public final class Linear: Layer {
    public let inputFeatures: Int
    public let outputFeatures: Int
    /// [Fout, Fin]
    public let weight: Parameter
    /// [Fout], or nil when the layer has no bias.
    public let bias: Parameter?

    struct Cache {
        /// [N, Fin]
        var input: Tensor
    }
    var cache: Cache?

    public init(inputFeatures: Int, outputFeatures: Int, bias: Bool = true) {
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.weight = Parameter(name: "weight", value: Tensor(zeros: [outputFeatures, inputFeatures]))
        self.bias = bias ? Parameter(name: "bias", value: Tensor(zeros: [outputFeatures])) : nil
    }

    public override var typeName: String { "Linear" }
    public override var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public override var summary: String { "\(inputFeatures)→\(outputFeatures)\(bias == nil ? ", no bias" : "")" }

    /// input [N, Fin] → output [N, Fout]
    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inputFeatures, "\(name): Linear expects [N, \(inputFeatures)], got \(input.shape)")
        let batch = input.shape[0]
        var output = [Float](repeating: 0, count: batch * outputFeatures)
        if let bias {
            for n in 0..<batch {
                for o in 0..<outputFeatures { output[n * outputFeatures + o] = bias.value.data[o] }
            }
        }
        // Y = X·Wᵀ + (bias already in Y, so β = 1)
        input.data.withUnsafeBufferPointer { x in
            weight.value.data.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    Gemm.multiply(x.baseAddress!, w.baseAddress!, transposeB: true, into: y.baseAddress!,
                                  m: batch, n: outputFeatures, k: inputFeatures, beta: 1)
                }
            }
        }
        cache = GradientRecording.isEnabled ? Cache(input: input) : nil
        return Tensor(shape: [batch, outputFeatures], data: output)
    }

    /// outputGradient [N, Fout] → inputGradient [N, Fin]
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        let batch = cache.input.shape[0]
        precondition(outputGradient.shape == [batch, outputFeatures], "\(name): outputGradient shape \(outputGradient.shape)")
        if let bias, computesParameterGradients {
            for n in 0..<batch {
                for o in 0..<outputFeatures { bias.gradient.data[o] += outputGradient.data[n * outputFeatures + o] }
            }
        }
        var inputGradient = [Float](repeating: 0, count: batch * inputFeatures)
        outputGradient.data.withUnsafeBufferPointer { dy in
            if computesParameterGradients {
            cache.input.data.withUnsafeBufferPointer { x in
                weight.gradient.data.withUnsafeMutableBufferPointer { dw in
                    // ∂L/∂W += (∂L/∂Y)ᵀ · X
                    Gemm.multiply(dy.baseAddress!, transposeA: true, x.baseAddress!, into: dw.baseAddress!,
                                  m: outputFeatures, n: inputFeatures, k: batch, beta: 1)
                }
            }
            }
            weight.value.data.withUnsafeBufferPointer { w in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    // ∂L/∂X = ∂L/∂Y · W
                    Gemm.multiply(dy.baseAddress!, w.baseAddress!, into: dx.baseAddress!,
                                  m: batch, n: inputFeatures, k: outputFeatures)
                }
            }
        }
        return Tensor(shape: [batch, inputFeatures], data: inputGradient)
    }
}
