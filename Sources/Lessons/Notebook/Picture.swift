import MiniNet

/// A row of pictures shown side by side, e.g. "input · CAM · CAM over input".
public struct Picture: Sendable {
    public var title: String
    public var panels: [Panel]

    public init(title: String, panels: [Panel]) {
        self.title = title
        self.panels = panels
    }
}

/// One picture of a `Picture` row, with its caption.
///
///     Panel.image("input", photo)
///     Panel.heatmap("CAM, class 3", cam)                         // cam: [H, W] in 0…1
///     Panel.heatmap("gradient × input", attribution, map: .diverging)
///     Panel.overlay("CAM over input", heatmap: cam, on: photo)
public struct Panel: Sendable {
    public enum Content: Sendable {
        /// A photo as it is.
        case image(RGBImage)
        /// A heatmap [H, W] painted with a colour map.
        case heatmap(Tensor, ColorMap)
        /// A heatmap [h, w] painted over a photo (resized to the photo's size).
        case overlay(heatmap: Tensor, map: ColorMap, image: RGBImage)
    }

    public var caption: String
    public var content: Content

    public init(caption: String, content: Content) {
        self.caption = caption
        self.content = content
    }

    public static func image(_ caption: String, _ image: RGBImage) -> Panel {
        Panel(caption: caption, content: .image(image))
    }

    /// - Parameter heatmap: [H, W]; with `.jet` in 0…1, with `.diverging` any sign.
    public static func heatmap(_ caption: String, _ heatmap: Tensor, map: ColorMap = .jet) -> Panel {
        precondition(heatmap.rank == 2, "a heatmap panel needs [H, W], got \(heatmap.shape)")
        return Panel(caption: caption, content: .heatmap(heatmap, map))
    }

    /// - Parameter heatmap: [h, w]; with `.jet` in 0…1, with `.diverging` any sign.
    public static func overlay(_ caption: String, heatmap: Tensor, on image: RGBImage, map: ColorMap = .jet) -> Panel {
        precondition(heatmap.rank == 2, "an overlay panel needs a heatmap [H, W], got \(heatmap.shape)")
        return Panel(caption: caption, content: .overlay(heatmap: heatmap, map: map, image: image))
    }

    /// The heatmap this panel shows, if any ([H, W]).
    public var heatmap: Tensor? {
        switch content {
        case .image: return nil
        case let .heatmap(heatmap, _): return heatmap
        case let .overlay(heatmap, _, _): return heatmap
        }
    }

    /// The colour map of the heatmap, if any.
    public var colorMap: ColorMap? {
        switch content {
        case .image: return nil
        case let .heatmap(_, map): return map
        case let .overlay(_, map, _): return map
        }
    }

    /// The pixels to display, at the panel's natural size: the photo's size for photos and
    /// overlays, one pixel per heatmap cell for heatmaps.
    public func rendered() -> RGBImage {
        switch content {
        case let .image(image): return image
        case let .heatmap(heatmap, map): return colorize(heatmap, map: map)
        case let .overlay(heatmap, map, image): return Lessons.overlay(heatmap, on: image, map: map)
        }
    }

    /// One number per pixel at `width` × `height` for displays without colour: brightness
    /// (0…1) for photos, the heatmap value itself for heatmaps and overlays (0…1 for `.jet`,
    /// −1…1 for `.diverging`), since jet's colours do not get brighter monotonically.
    func intensities(width: Int, height: Int) -> [Float] {
        switch content {
        case let .image(image):
            let small = image.scaled(width: width, height: height, interpolation: .area)
            return (0..<(width * height)).map { index in
                // Rec. 601 luma.
                (0.299 * Float(small.pixels[index * 3]) + 0.587 * Float(small.pixels[index * 3 + 1])
                    + 0.114 * Float(small.pixels[index * 3 + 2])) / 255
            }
        case let .heatmap(heatmap, map), let .overlay(heatmap, map, _):
            guard heatmap.count > 0 else { return [Float](repeating: 0, count: width * height) }
            let sampled = nearestResize(heatmap, height: height, width: width)
            let scale = map == .diverging ? largestMagnitude(heatmap) : 1
            // NaN reads as 0 and ±∞ as ±1, so a broken heatmap still draws.
            return sampled.data.map { value in
                let scaled = scale > 0 ? value / scale : 0
                return scaled.isNaN ? 0 : scaled.isInfinite ? (scaled > 0 ? 1 : -1) : scaled
            }
        }
    }
}

/// Nearest-neighbour resize of a heatmap [H, W] to [height, width].
func nearestResize(_ heatmap: Tensor, height: Int, width: Int) -> Tensor {
    let inputHeight = heatmap.shape[0]
    let inputWidth = heatmap.shape[1]
    var output = Tensor(zeros: [height, width])
    for y in 0..<height {
        let sourceY = Swift.min(inputHeight - 1, (2 * y + 1) * inputHeight / (2 * height))
        for x in 0..<width {
            let sourceX = Swift.min(inputWidth - 1, (2 * x + 1) * inputWidth / (2 * width))
            output.data[y * width + x] = heatmap.data[sourceY * inputWidth + sourceX]
        }
    }
    return output
}
