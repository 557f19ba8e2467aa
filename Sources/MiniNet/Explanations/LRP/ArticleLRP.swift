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
        network.withoutParameterGradients {
            calLRP(network.layers.map(\.layer), input: input, top: startingRelevance.map(Entry.tensor))
        }
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

    /// `cal_lrp(modules, input)`: `lrp_outputs[-1]` is `top`, or the chain's own output when nil
    /// (what the article's recursion starts every inner list with).
    static func calLRP(_ modules: [Layer], input: Tensor, top: Entry?) -> [Entry] {
        // tensors[i] is the input of modules[i]; tensors[i + 1] its output.
        var tensors = [input]
        for module in modules { tensors.append(module.forward(tensors[tensors.count - 1])) }
        var outputs = [Entry?](repeating: nil, count: modules.count) + [top ?? .tensor(tensors[modules.count])]
        for index in modules.indices.reversed() {
            let module = modules[index]
            if module is BatchNorm2d {
                outputs[index] = outputs[index + 1]?.firstOrSelf
            } else if let inner = submodules(of: module) {
                outputs[index] = .list(calLRP(inner, input: tensors[index], top: nil))
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
        // Each input value gathers its own terms, so the values are independent (any thread
        // count gives the same bits) and the sum over o runs over contiguous memory: s₀ is laid
        // out as [OH, OW, O] and W as [C, k, k, O].
        let kernel = conv.kernelSize, (stride, padding) = (conv.stride, conv.padding)
        let (inputChannels, outputChannels) = (conv.inputChannels, conv.outputChannels)
        var sByPosition = [Double](repeating: 0, count: s.data.count)          // [OH, OW, O]
        for o in 0..<outputChannels {
            for position in 0..<(outputHeight * outputWidth) {
                sByPosition[position * outputChannels + o] = Double(s.data[o * outputHeight * outputWidth + position])
            }
        }
        var weightByChannel = [Double](repeating: 0, count: conv.weight.value.count)   // [C, k, k, O]
        for o in 0..<outputChannels {
            for tap in 0..<(inputChannels * kernel * kernel) {
                weightByChannel[tap * outputChannels + o] = Double(conv.weight.value.data[o * inputChannels * kernel * kernel + tap])
            }
        }
        var transposed = [Double](repeating: 0, count: input.data.count)   // conv1ᵀ(s₀)
        var magnitudes = [Double](repeating: 0, count: input.data.count)   // Σ |W · s₀|
        transposed.withUnsafeMutableBufferPointer { transposedOut in
        magnitudes.withUnsafeMutableBufferPointer { magnitudesOut in
        weightByChannel.withUnsafeBufferPointer { weights in
        sByPosition.withUnsafeBufferPointer { sValues in
                // Four partial sums in one vector register, added at the end.
                func dot(_ weightRow: Int, _ sRow: Int) -> (sum: Double, magnitude: Double) {
                    var (sums, magnitudes) = (SIMD4<Double>(), SIMD4<Double>())
                    var o = 0
                    while o + 4 <= outputChannels {
                        let terms = UnsafeRawPointer(weights.baseAddress! + weightRow + o).loadUnaligned(as: SIMD4<Double>.self)
                            * UnsafeRawPointer(sValues.baseAddress! + sRow + o).loadUnaligned(as: SIMD4<Double>.self)
                        sums += terms
                        magnitudes += terms.replacing(with: -terms, where: terms .< 0)
                        o += 4
                    }
                    var (sum, magnitude) = (sums.sum(), magnitudes.sum())
                    while o < outputChannels {
                        let term = weights[weightRow + o] * sValues[sRow + o]
                        sum += term
                        magnitude += Swift.abs(term)
                        o += 1
                    }
                    return (sum, magnitude)
                }
                Parallel.forEach(inputChannels * height, cost: width * kernel * kernel * outputChannels) { row in
                    let (c, h) = (row / height, row % height)
                    for w in 0..<width {
                        var (sum, magnitude) = (0.0, 0.0)
                        // h = i·stride + u − p: the taps u with (h + p − u) a multiple of the stride.
                        for u in 0..<kernel where (h + padding - u) % stride == 0 {
                            let i = (h + padding - u) / stride
                            guard i >= 0 && i < outputHeight && h + padding - u >= 0 else { continue }
                            for v in 0..<kernel where (w + padding - v) % stride == 0 {
                                let j = (w + padding - v) / stride
                                guard j >= 0 && j < outputWidth && w + padding - v >= 0 else { continue }
                                let terms = dot(((c * kernel + u) * kernel + v) * outputChannels, (i * outputWidth + j) * outputChannels)
                                sum += terms.sum
                                magnitude += terms.magnitude
                            }
                        }
                        transposedOut[(c * height + h) * width + w] = sum
                        magnitudesOut[(c * height + h) * width + w] = magnitude
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
        let termsPerOutput = outputChannels * ((kernel + stride - 1) / stride) * ((kernel + stride - 1) / stride)
        return (relevance, termMagnitudes, termsPerOutput)
    }
}
