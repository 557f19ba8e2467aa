/// The picture preparation that ImageNet classifiers from torchvision were evaluated with,
/// reproduced exactly:
///
///     transforms.Compose([
///         transforms.Resize(256),          // shorter side to 256, PIL bilinear with antialiasing
///         transforms.CenterCrop(224),
///         transforms.ToTensor(),           // bytes / 255, [3, H, W]
///         transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
///     ])
///
/// applied to a PIL RGB image. The sizes are parameters so tests can use small ones.
public struct ImageNetPreprocessing: Sendable {
    /// Per-channel (R, G, B) mean of the ImageNet training pictures, on the 0…1 scale.
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    /// Per-channel (R, G, B) standard deviation of the ImageNet training pictures, on the 0…1 scale.
    public static let std: [Float] = [0.229, 0.224, 0.225]

    /// The shorter side of the picture after resizing (torchvision's `Resize(256)`).
    public var resizeShorterSide: Int
    /// The side of the square cut from the centre after resizing (torchvision's `CenterCrop(224)`).
    public var cropSize: Int

    public init(resizeShorterSide: Int = 256, cropSize: Int = 224) {
        self.resizeShorterSide = resizeShorterSide
        self.cropSize = cropSize
    }

    /// The network's input: the resized, cropped picture as a [3, crop, crop] tensor with
    ///
    ///     value[c, y, x] = (byte[c, y, x] / 255 − mean[c]) / std[c]
    ///
    /// computed in Float32 in the same order as torchvision (divide, subtract, divide), so the
    /// numbers agree with PyTorch's to the last bit.
    public func callAsFunction(_ image: RGBImage) throws -> Tensor {
        try normalize(resizeAndCrop(image))
    }

    /// The 8-bit picture the network sees (resized and cropped, not yet normalised), e.g. to
    /// draw an explanation over.
    ///
    /// Resize: the shorter side becomes `resizeShorterSide` = S and the longer side L becomes
    ///
    ///     L' = ⌊S · L / shorter⌋        (torchvision's int(S * long / short))
    ///
    /// and a picture already of that size is left alone. Only that exact size is: a 224×224
    /// picture is still enlarged to 256×256 and then cropped back to its central 224×224, as
    /// torchvision does. Crop: the square's corner is at
    ///
    ///     top  = round((H' − crop) / 2),   left = round((W' − crop) / 2)
    ///
    /// with Python's round, which sends halves to the even neighbour (2.5 → 2, 11.5 → 12).
    public func resizeAndCrop(_ image: RGBImage) throws -> RGBImage {
        guard resizeShorterSide >= 1, resizeShorterSide <= pilMaximumSide else {
            throw MiniNetError.invalidArgument(
                "ImageNet preprocessing: resize size \(resizeShorterSide) is not in 1…\(pilMaximumSide)")
        }
        guard cropSize >= 1, cropSize <= resizeShorterSide else {
            throw MiniNetError.invalidArgument(
                "ImageNet preprocessing: crop size \(cropSize) is not in 1…\(resizeShorterSide) (the resize size)")
        }
        guard image.width >= 1, image.height >= 1 else {
            throw MiniNetError.invalidArgument(
                "ImageNet preprocessing: the picture is empty (\(image.width)×\(image.height))")
        }

        let (width, height) = try resizedSize(width: image.width, height: image.height)
        let resized = (width == image.width && height == image.height)
            ? image
            : try pilBilinearResize(image, width: width, height: height)

        // Both sides are now at least S ≥ crop, so the crop never needs torchvision's padding.
        let top = Int((Double(height - cropSize) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(width - cropSize) / 2).rounded(.toNearestOrEven))
        var pixels = [UInt8](repeating: 0, count: cropSize * cropSize * 3)
        let rowBytes = cropSize * 3
        for row in 0..<cropSize {
            let source = ((top + row) * width + left) * 3
            pixels.replaceSubrange(row * rowBytes..<(row + 1) * rowBytes,
                                   with: resized.pixels[source..<source + rowBytes])
        }
        return RGBImage(width: cropSize, height: cropSize, pixels: pixels)
    }

    /// torchvision's `_compute_resized_output_size` for a single requested size S:
    /// short' = S, long' = int(S · long / short), where the division is a correctly rounded
    /// Double division (Python's `/`) and `int` truncates.
    private func resizedSize(width: Int, height: Int) throws -> (width: Int, height: Int) {
        let shorter = Swift.min(width, height)
        let longer = Swift.max(width, height)
        let newLonger = Int(Double(resizeShorterSide * longer) / Double(shorter))
        guard newLonger <= pilMaximumSide else {
            throw MiniNetError.invalidArgument(
                "ImageNet preprocessing: a \(width)×\(height) picture resized to shorter side \(resizeShorterSide) "
                + "would be \(newLonger) pixels long (more than \(pilMaximumSide))")
        }
        // torchvision treats width ≤ height as "width is the shorter side" (ties included).
        return width <= height ? (resizeShorterSide, newLonger) : (newLonger, resizeShorterSide)
    }

    /// ToTensor then Normalize: [3, H, W] with (byte / 255 − mean[c]) / std[c].
    private func normalize(_ image: RGBImage) -> Tensor {
        var tensor = image.toTensor()  // byte / 255 in Float32, like ToTensor
        let planeSize = image.width * image.height
        for channel in 0..<3 {
            let mean = Self.mean[channel]
            let std = Self.std[channel]
            for index in channel * planeSize..<(channel + 1) * planeSize {
                tensor.data[index] = (tensor.data[index] - mean) / std
            }
        }
        return tensor
    }
}

/// The largest side `pilBilinearResize` produces or accepts. Far beyond any picture a lesson
/// uses; it keeps a typo (an extra zero or three) from asking for gigabytes.
public let pilMaximumSide = 16_384

/// Resizes an 8-bit RGB picture to `width` × `height` exactly as Pillow's
/// `Image.resize((width, height), Image.BILINEAR)` does (libImaging/Resample.c), byte for byte.
///
/// Pillow does not sample the source at single points: each output pixel is a weighted
/// average of the source pixels under a triangle ("tent") filter that is stretched when
/// shrinking, which is what removes aliasing. It works one axis at a time, rounding to an
/// 8-bit intermediate picture in between: usually first every row horizontally, then every
/// column of that picture vertically. An axis whose size does not change is not resampled.
///
/// The order matters in the last bit because of the rounding in between. Pillow 13 (the
/// version the fixtures come from) goes vertical-first when the height loses more than twice
/// as many pixels as the width,
///
///     ΔH = H_in − H_out > 0   and   ΔH > 2 · (W_in − W_out),
///
/// to make the second pass cheaper; Pillow 12 and older always go horizontal-first. See
/// `ResamplingWeights` for the weights and `resampleRows` / `resampleColumns` for the
/// fixed-point sums.
public func pilBilinearResize(_ image: RGBImage, width: Int, height: Int) throws -> RGBImage {
    guard (1...pilMaximumSide).contains(width), (1...pilMaximumSide).contains(height) else {
        throw MiniNetError.invalidArgument(
            "bilinear resize: target size \(width)×\(height) is not in 1…\(pilMaximumSide) on each side")
    }
    guard (1...pilMaximumSide).contains(image.width), (1...pilMaximumSide).contains(image.height) else {
        throw MiniNetError.invalidArgument(
            "bilinear resize: source size \(image.width)×\(image.height) is not in 1…\(pilMaximumSide) on each side")
    }
    func horizontal(_ picture: RGBImage) -> RGBImage {
        width == picture.width ? picture
            : resampleRows(picture, weights: ResamplingWeights(inputSize: picture.width, outputSize: width))
    }
    func vertical(_ picture: RGBImage) -> RGBImage {
        height == picture.height ? picture
            : resampleColumns(picture, weights: ResamplingWeights(inputSize: picture.height, outputSize: height))
    }
    let heightLoss = image.height - height
    let widthLoss = image.width - width
    let verticalFirst = heightLoss > 0 && heightLoss > 2 * widthLoss
    return verticalFirst ? horizontal(vertical(image)) : vertical(horizontal(image))
}

/// Pillow's weights for resampling one axis from `inputSize` to `outputSize` pixels with the
/// bilinear (triangle) filter, already in fixed point.
///
/// With scale s = inputSize / outputSize and filter scale f = max(s, 1) (stretch the filter
/// only when shrinking), output pixel i covers source coordinates around its centre
///
///     centre = (i + 0.5) · s
///     support = 1 · f                        (the triangle's half-width: 1 for bilinear)
///     first = max(0, int(centre − support + 0.5)),  end = min(inputSize, int(centre + support + 0.5))
///
/// (`int` truncates toward zero, as C's cast does). Source pixel j (first ≤ j < end), whose
/// centre is at j + 0.5, gets
///
///     w_j = triangle((j + 0.5 − centre) / f),   triangle(t) = max(0, 1 − |t|)
///
/// and the weights are divided by their sum so they add up to 1. For 8-bit pictures Pillow
/// then rounds each weight to a fixed-point integer with 22 fractional bits
/// (PRECISION_BITS = 32 − 8 − 2: 8 bits for the pixel value, 2 spare against overflow):
///
///     k_j = int(w_j · 2²² + 0.5)    (the weights are never negative for this filter)
struct ResamplingWeights {
    /// Fractional bits of the fixed-point weights.
    static let precisionBits = 32 - 8 - 2

    /// For each output pixel, its first source pixel.
    var first: [Int]
    /// For each output pixel, the fixed-point weights of source pixels first, first + 1, ….
    var weights: [[Int]]

    init(inputSize: Int, outputSize: Int) {
        // Pillow computes the scale from Float box coordinates, exact for these integer sizes.
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = Swift.max(scale, 1)
        let support = 1.0 * filterScale
        // Pillow multiplies by the reciprocal rather than dividing; the last bit can differ.
        let inverseFilterScale = 1.0 / filterScale
        let one = Double(1 << Self.precisionBits)

        first = []
        weights = []
        first.reserveCapacity(outputSize)
        weights.reserveCapacity(outputSize)
        for outputIndex in 0..<outputSize {
            let centre = (Double(outputIndex) + 0.5) * scale
            let start = Swift.max(0, Int(centre - support + 0.5))
            let end = Swift.min(inputSize, Int(centre + support + 0.5))
            var real: [Double] = []
            var total = 0.0
            for sourceIndex in start..<Swift.max(start, end) {
                let distance = (Double(sourceIndex) - centre + 0.5) * inverseFilterScale
                let weight = Swift.max(0, 1 - Swift.abs(distance))
                real.append(weight)
                total += weight
            }
            if total != 0 {
                real = real.map { $0 / total }
            }
            first.append(start)
            weights.append(real.map { Int($0 * one + 0.5) })
        }
    }

    /// The fixed-point sum Σ k_j · byte_j back to a byte: add one half (2²¹) so the shift
    /// rounds to nearest, drop the 22 fraction bits, clip to 0…255.
    @inline(__always)
    static func byte(fromSum sum: Int) -> UInt8 {
        let value = (sum + (1 << (precisionBits - 1))) >> precisionBits
        return UInt8(Swift.min(Swift.max(value, 0), 255))
    }
}

/// The horizontal pass: every row resampled to `weights.first.count` pixels.
private func resampleRows(_ image: RGBImage, weights: ResamplingWeights) -> RGBImage {
    let outputWidth = weights.first.count
    var pixels = [UInt8](repeating: 0, count: outputWidth * image.height * 3)
    image.pixels.withUnsafeBufferPointer { source in
        pixels.withUnsafeMutableBufferPointer { output in
            for column in 0..<outputWidth {
                let first = weights.first[column]
                let kernel = weights.weights[column]
                for row in 0..<image.height {
                    let sourceStart = (row * image.width + first) * 3
                    for channel in 0..<3 {
                        var sum = 0
                        for tap in 0..<kernel.count {
                            sum += Int(source[sourceStart + tap * 3 + channel]) * kernel[tap]
                        }
                        output[(row * outputWidth + column) * 3 + channel] = ResamplingWeights.byte(fromSum: sum)
                    }
                }
            }
        }
    }
    return RGBImage(width: outputWidth, height: image.height, pixels: pixels)
}

/// The vertical pass: every column resampled to `weights.first.count` pixels.
private func resampleColumns(_ image: RGBImage, weights: ResamplingWeights) -> RGBImage {
    let outputHeight = weights.first.count
    let rowBytes = image.width * 3
    var pixels = [UInt8](repeating: 0, count: rowBytes * outputHeight)
    image.pixels.withUnsafeBufferPointer { source in
        pixels.withUnsafeMutableBufferPointer { output in
            for row in 0..<outputHeight {
                let first = weights.first[row]
                let kernel = weights.weights[row]
                for byteIndex in 0..<rowBytes {  // every channel of every column
                    var sum = 0
                    for tap in 0..<kernel.count {
                        sum += Int(source[(first + tap) * rowBytes + byteIndex]) * kernel[tap]
                    }
                    output[row * rowBytes + byteIndex] = ResamplingWeights.byte(fromSum: sum)
                }
            }
        }
    }
    return RGBImage(width: image.width, height: outputHeight, pixels: pixels)
}
