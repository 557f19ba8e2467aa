/// Two maps that explain nothing, scored like every explanation so that each score has a
/// baseline ("đối chứng"): a method that localises no better than random values, or than the
/// edges of the picture, has not shown that it looks at what the network uses.
///
/// Both are [H, W] Tensors at the picture's size, the type of `Explanation.heatmap`.
public enum ControlMaps {
    /// Independent uniform values in [0, 1), one per pixel, from
    /// `SeededGenerator(seed: seed, stream: stream)` in row-major order:
    ///
    ///     R(y, x) = u_{y·W + x},   u ~ U[0, 1)   (`SeededGenerator.nextUniform`, k · 2⁻²⁴)
    ///
    /// Give each picture its own stream (its index in the data set): the map of picture i is then
    /// the same whatever else is evaluated, in whatever order or batch.
    public static func random(height: Int, width: Int, seed: UInt64, stream: UInt64 = 0) -> Tensor {
        precondition(height > 0 && width > 0, "a random map needs a positive size, got \(height) × \(width)")
        var generator = SeededGenerator(seed: seed, stream: stream)
        return Tensor(shape: [height, width], data: (0..<(height * width)).map { _ in generator.nextUniform() })
    }

    /// The luminance of a picture [3, H, W] (or [1, 3, H, W]) with values in 0…1, by the
    /// Rec. 709 weights that skimage.color.rgb2gray uses:
    ///
    ///     Y = 0.2125 R + 0.7154 G + 0.0721 B
    ///
    /// A single-channel picture [1, H, W] is its own luminance.
    public static func luminance(_ picture: Tensor) -> Tensor {
        let image = picture.rank == 4 && picture.shape[0] == 1 ? picture.slice(0) : picture
        precondition(image.rank == 3 && (image.shape[0] == 3 || image.shape[0] == 1),
                     "luminance expects a picture [3, H, W] or [1, H, W], got \(picture.shape)")
        guard image.shape[0] == 3 else { return image.slice(0) }
        let weights: [Float] = [0.2125, 0.7154, 0.0721]
        var result = Tensor(zeros: [image.shape[1], image.shape[2]])
        for channel in 0..<3 { result += image.slice(channel) * weights[channel] }
        return result
    }

    /// The Sobel edge map: the length of the luminance's gradient, estimated by Sobel's 3 × 3
    /// kernels,
    ///
    ///            ⎡−1  0  1⎤            ⎡−1 −2 −1⎤
    ///     G_x =  ⎢−2  0  2⎥ ⋆ Y,  G_y = ⎢ 0  0  0⎥ ⋆ Y,     E = √(G_x² + G_y²)
    ///            ⎣−1  0  1⎦            ⎣ 1  2  1⎦
    ///
    /// (⋆: correlation, rows top to bottom). Outside the picture each pixel repeats the nearest
    /// border pixel, which for a 3 × 3 kernel is also scipy's "reflect" mode; so
    /// E = 4√2 · skimage.filters.sobel(rgb2gray(picture)), whose kernels are these divided by 4
    /// and whose magnitude is divided by √2. Only the order of the values matters to the
    /// localisation scores, which none of these factors changes.
    public static func sobelEdges(_ picture: Tensor) -> Tensor {
        sobelMagnitude(luminance(picture))
    }

    /// E = √(G_x² + G_y²) of a single-channel image [H, W] (see `sobelEdges`), in Double.
    public static func sobelMagnitude(_ image: Tensor) -> Tensor {
        precondition(image.rank == 2, "sobelMagnitude expects an image [H, W], got \(image.shape)")
        let (height, width) = (image.shape[0], image.shape[1])
        // The pixel at (y, x) with the coordinates clamped into the picture.
        func at(_ y: Int, _ x: Int) -> Double {
            Double(image.data[Swift.min(Swift.max(y, 0), height - 1) * width + Swift.min(Swift.max(x, 0), width - 1)])
        }
        var edges = Tensor(zeros: [height, width])
        for y in 0..<height {
            for x in 0..<width {
                let gx = (at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1))
                       - (at(y - 1, x - 1) + 2 * at(y, x - 1) + at(y + 1, x - 1))
                let gy = (at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1))
                       - (at(y - 1, x - 1) + 2 * at(y - 1, x) + at(y - 1, x + 1))
                edges.data[y * width + x] = Float((gx * gx + gy * gy).squareRoot())
            }
        }
        return edges
    }
}
