import MiniNet

/// How a picture is resampled to another size for display.
public enum Interpolation: Sendable {
    /// Each output pixel copies the input pixel under its centre: a 7×7 heatmap blown up
    /// to 70×70 shows its 49 cells as crisp squares.
    case nearest
    /// Each output pixel mixes the 4 input pixels around its centre, weighted by distance,
    /// with pixel centres at (i + ½)·scale (OpenCV's `cv2.resize` convention). Smooth when
    /// enlarging; shrinking by more than 2× skips pixels, prefer `.area` for that.
    case bilinear
    /// Each output pixel is the average of the input pixels it covers: the right choice for
    /// shrinking a photo to a few terminal characters.
    case area
}

/// Source coordinate and weights of bilinear interpolation along one axis, half-pixel
/// centres: source = (out + ½) · inSize/outSize − ½, clamped to the picture.
private func bilinearTaps(outputIndex: Int, outputSize: Int, inputSize: Int) -> (low: Int, high: Int, fraction: Float) {
    let source = (Float(outputIndex) + 0.5) * Float(inputSize) / Float(outputSize) - 0.5
    let clamped = Swift.min(Swift.max(source, 0), Float(inputSize - 1))
    let low = Int(clamped.rounded(.down))
    let high = Swift.min(low + 1, inputSize - 1)
    return (low, high, clamped - Float(low))
}

/// The input range [start, end) an output pixel covers when shrinking (at least one pixel).
private func coveredRange(outputIndex: Int, outputSize: Int, inputSize: Int) -> Range<Int> {
    let start = outputIndex * inputSize / outputSize
    let end = Swift.max(start + 1, ((outputIndex + 1) * inputSize + outputSize - 1) / outputSize)
    return start..<Swift.min(end, inputSize)
}

/// A heatmap [H, W] resized to [height, width] with bilinear interpolation (half-pixel
/// centres, like `cv2.resize(…, INTER_LINEAR)` and `F.interpolate(…, align_corners=False)`).
///
///     out(y, x) = (1−fy)(1−fx)·in(y0, x0) + (1−fy)·fx·in(y0, x1) + fy·(1−fx)·in(y1, x0) + fy·fx·in(y1, x1)
public func bilinearResize(_ heatmap: Tensor, height: Int, width: Int) -> Tensor {
    precondition(heatmap.rank == 2 && heatmap.count > 0, "bilinearResize needs a non-empty [H, W], got \(heatmap.shape)")
    precondition(height > 0 && width > 0, "bilinearResize to \(height)×\(width)")
    let inputHeight = heatmap.shape[0]
    let inputWidth = heatmap.shape[1]
    var output = Tensor(zeros: [height, width])
    for y in 0..<height {
        let row = bilinearTaps(outputIndex: y, outputSize: height, inputSize: inputHeight)
        for x in 0..<width {
            let column = bilinearTaps(outputIndex: x, outputSize: width, inputSize: inputWidth)
            let top = (1 - column.fraction) * heatmap.data[row.low * inputWidth + column.low]
                + column.fraction * heatmap.data[row.low * inputWidth + column.high]
            let bottom = (1 - column.fraction) * heatmap.data[row.high * inputWidth + column.low]
                + column.fraction * heatmap.data[row.high * inputWidth + column.high]
            output.data[y * width + x] = (1 - row.fraction) * top + row.fraction * bottom
        }
    }
    return output
}

extension RGBImage {
    /// The picture resampled to width × height (each at least 1).
    public func scaled(width newWidth: Int, height newHeight: Int, interpolation: Interpolation) -> RGBImage {
        let newWidth = Swift.max(1, newWidth)
        let newHeight = Swift.max(1, newHeight)
        guard width > 0, height > 0 else {
            return RGBImage(width: newWidth, height: newHeight, pixels: [UInt8](repeating: 0, count: newWidth * newHeight * 3))
        }
        if newWidth == width && newHeight == height { return self }
        var output = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        for y in 0..<newHeight {
            for x in 0..<newWidth {
                let target = (y * newWidth + x) * 3
                switch interpolation {
                case .nearest:
                    let sourceY = Swift.min(height - 1, (2 * y + 1) * height / (2 * newHeight))
                    let sourceX = Swift.min(width - 1, (2 * x + 1) * width / (2 * newWidth))
                    let source = (sourceY * width + sourceX) * 3
                    for channel in 0..<3 { output[target + channel] = pixels[source + channel] }
                case .bilinear:
                    let row = bilinearTaps(outputIndex: y, outputSize: newHeight, inputSize: height)
                    let column = bilinearTaps(outputIndex: x, outputSize: newWidth, inputSize: width)
                    for channel in 0..<3 {
                        func pixel(_ sourceY: Int, _ sourceX: Int) -> Float {
                            Float(pixels[(sourceY * width + sourceX) * 3 + channel])
                        }
                        let top = (1 - column.fraction) * pixel(row.low, column.low) + column.fraction * pixel(row.low, column.high)
                        let bottom = (1 - column.fraction) * pixel(row.high, column.low) + column.fraction * pixel(row.high, column.high)
                        let value = (1 - row.fraction) * top + row.fraction * bottom
                        output[target + channel] = UInt8(Swift.min(255, Swift.max(0, value.rounded())))
                    }
                case .area:
                    let rows = coveredRange(outputIndex: y, outputSize: newHeight, inputSize: height)
                    let columns = coveredRange(outputIndex: x, outputSize: newWidth, inputSize: width)
                    var totals = [0, 0, 0]
                    for sourceY in rows {
                        for sourceX in columns {
                            for channel in 0..<3 { totals[channel] += Int(pixels[(sourceY * width + sourceX) * 3 + channel]) }
                        }
                    }
                    let covered = rows.count * columns.count
                    for channel in 0..<3 {
                        output[target + channel] = UInt8((totals[channel] + covered / 2) / covered)
                    }
                }
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: output)
    }
}
