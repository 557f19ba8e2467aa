/// A residual connection: output = activation(body(x) + shortcut(x)).
///
/// `shortcut` is the identity when nil (torchvision calls a non-identity one "downsample");
/// `activation` (ReLU in a ResNet block) is optional. Backward follows both paths and adds:
///
///     s = body(x) + shortcut(x),   y = activation(s)
///     ∂L/∂s = activation.backward(∂L/∂y)
///     ∂L/∂x = body.backward(∂L/∂s) + shortcut.backward(∂L/∂s)     (∂L/∂s itself for the identity)
///
/// The body's layers are direct children, so their names match PyTorch's modules
/// ("layer1.0.conv1", "layer1.0.bn1", …, "layer1.0.downsample").
public final class Residual: Layer {
    public let body: [(name: String, layer: Layer)]
    public let shortcut: (name: String, layer: Layer)?
    public let activation: (name: String, layer: Layer)?

    public init(body: [(String, Layer)], shortcut: (String, Layer)? = nil, activation: (String, Layer)? = nil) {
        self.body = body.map { (name: $0.0, layer: $0.1) }
        self.shortcut = shortcut.map { (name: $0.0, layer: $0.1) }
        self.activation = activation.map { (name: $0.0, layer: $0.1) }
    }

    /// What the block is called in PyTorch ("BasicBlock", "Bottleneck"), and its hyper-parameters.
    public var blockType = "Residual"
    public var blockSummary = ""

    public override var typeName: String { blockType }
    public override var summary: String { blockSummary }
    public override var children: [(name: String, layer: Layer)] {
        body + (shortcut.map { [$0] } ?? []) + (activation.map { [$0] } ?? [])
    }

    /// input [N, C, H, W] → output [N, C', H', W'] (body and shortcut must agree on the shape)
    ///
    /// In a pass that records nothing for backward, a convolution, BatchNorm and ReLU of the body
    /// run as one pass over the output, and so do the body's last convolution and BatchNorm with
    /// the sum and the activation (InferenceFusion.swift), with the same result.
    public override func forward(_ input: Tensor) -> Tensor {
        if let activation, InferenceFusion.isPlainReLU(activation.layer), body.count >= 2,
           let last = InferenceFusion.match(body, at: body.count - 2, before: body.count) {
            // The block's last convolution and BatchNorm, the sum and the activation as one.
            let bodyOutput = InferenceFusion.runInOrder(body, 0..<(body.count - 2), input)
            let shortcutOutput = shortcut?.layer.run(input) ?? input
            return InferenceFusion.run(last.conv, last.batchNorm, relu: true, adding: shortcutOutput, bodyOutput)
        }
        let bodyOutput = InferenceFusion.runInOrder(body, body.indices, input)
        let shortcutOutput = shortcut?.layer.run(input) ?? input
        precondition(bodyOutput.shape == shortcutOutput.shape,
                     "\(name): body gives \(bodyOutput.shape) but shortcut gives \(shortcutOutput.shape)")
        let sum = bodyOutput + shortcutOutput
        return activation?.layer.run(sum) ?? sum
    }

    public override func backward(_ outputGradient: Tensor) -> Tensor {
        let sumGradient = activation?.layer.runBackward(outputGradient) ?? outputGradient
        var bodyGradient = sumGradient
        for (_, layer) in body.reversed() { bodyGradient = layer.runBackward(bodyGradient) }
        let shortcutGradient = shortcut?.layer.runBackward(sumGradient) ?? sumGradient
        return bodyGradient + shortcutGradient
    }
}
