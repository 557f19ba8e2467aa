extension Layer {
    /// Which linear piece of a piecewise-linear network the last forward pass was in: for every
    /// ReLU inside this layer, whether each output was positive; for every max-pooling, which
    /// input won each window. Two inputs with the same signature lie on one piece, where the
    /// network is affine and a finite difference between them has no truncation error.
    public var linearPieceSignature: [Int] {
        var signature: [Int] = []
        for layer in allLayers {
            if let relu = layer as? ReLU, let cache = relu.cache {
                signature += cache.output.data.map { $0 > 0 ? 1 : 0 }
            } else if let pool = layer as? MaxPool2d, let cache = pool.cache {
                signature += cache.winners
            }
        }
        return signature
    }
}
