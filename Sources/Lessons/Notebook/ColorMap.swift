import MiniNet

/// How numbers become colours in a heatmap picture.
public enum ColorMap: String, Sendable, CaseIterable {
    /// OpenCV's `COLORMAP_JET`, byte for byte: dark blue (0) → blue → cyan → yellow → red →
    /// dark red (1). This is the map pytorch-grad-cam's `show_cam_on_image` uses, so our CAM
    /// overlays match that library's pictures. Values are expected in 0…1 (a CAM after
    /// min–max normalisation); values outside are clamped. (Matplotlib's `jet` differs from
    /// OpenCV's by up to 34/255 in places; we follow OpenCV.)
    case jet
    /// Matplotlib's `bwr` for signed attributions, symmetric around 0: −1 blue (0, 0, 255),
    /// 0 white, +1 red (255, 0, 0). A heatmap is divided by its largest |value| first, so the
    /// strongest evidence is fully saturated and 0 is always white.
    case diverging
    /// The map the second article draws its IG picture with (the Captum tutorial's "custom
    /// blue": white at 0, black from 0.25 up, linear in between). Reads 0…1 (clamped), so it
    /// suits `--sign positive` or `absolute`; most of a picture's attribution is small, and
    /// this map makes the small values visible.
    case whiteToBlack = "white-to-black"

    /// The colour of one value: `jet` reads `value` in 0…1, `diverging` in −1…1 (both clamped).
    public func color(_ value: Float) -> (red: UInt8, green: UInt8, blue: UInt8) {
        switch self {
        case .jet:
            // np.uint8(255 · mask) in pytorch-grad-cam: scale, then truncate toward zero.
            let clamped = value.isNaN ? 0 : Swift.min(Swift.max(value, 0), 1)
            let level = Int(255 * clamped)
            return (UInt8(ColorMap.jetRed(level)), UInt8(ColorMap.jetGreen(level)), UInt8(ColorMap.jetBlue(level)))
        case .diverging:
            let clamped = value.isNaN ? 0 : Swift.min(Swift.max(value, -1), 1)
            // The two other channels fade from 255 (white) to 0 as |value| grows.
            let faded = UInt8((255 * (1 - abs(clamped))).rounded())
            return clamped >= 0 ? (255, faded, faded) : (faded, faded, 255)
        case .whiteToBlack:
            let clamped = value.isNaN ? 0 : Swift.min(Swift.max(value, 0), 1)
            let gray = UInt8((255 * Swift.max(0, 1 - clamped / 0.25)).rounded())
            return (gray, gray, gray)
        }
    }

    // OpenCV's jet table, level 0…255. Each channel is a trapezoid: it ramps up by 4 per
    // level, holds 255, ramps down by 4 per level; blue starts half-way up, red ends half-way
    // down. (Level 159's blue of 1 instead of 2 is OpenCV's own float rounding, kept so the
    // table matches `cv2.applyColorMap` exactly.)

    static func jetBlue(_ level: Int) -> Int {
        switch level {
        case ..<32: return 128 + 4 * level
        case 32..<96: return 255
        case 96..<159: return 254 - 4 * (level - 96)
        case 159: return 1
        default: return 0
        }
    }

    static func jetGreen(_ level: Int) -> Int {
        switch level {
        case ..<33: return 0
        case 33..<96: return 4 * (level - 32)
        case 96..<160: return 255
        case 160..<223: return 252 - 4 * (level - 160)
        default: return 0
        }
    }

    static func jetRed(_ level: Int) -> Int {
        switch level {
        case ..<96: return 0
        case 96..<160: return 2 + 4 * (level - 96)
        case 160..<224: return 255
        default: return 252 - 4 * (level - 224)
        }
    }
}

/// Largest finite |value| of a heatmap (0 for an empty or all-zero one), the scale of
/// `.diverging`. NaN and infinities are left out, so that one broken value does not wash
/// out the rest of the picture; they are painted as 0 (NaN) or full strength (±∞).
func largestMagnitude(_ heatmap: Tensor) -> Float {
    heatmap.data.reduce(0) { $1.isFinite ? Swift.max($0, abs($1)) : $0 }
}

/// A heatmap [H, W] painted with a colour map into an H×W picture.
///
/// `.jet` uses the values as they are (expects 0…1); `.diverging` first divides by the
/// largest |value| so that the map is symmetric around 0 (an all-zero heatmap is all white).
public func colorize(_ heatmap: Tensor, map: ColorMap) -> RGBImage {
    precondition(heatmap.rank == 2, "colorize needs a heatmap [H, W], got \(heatmap.shape)")
    let height = heatmap.shape[0]
    let width = heatmap.shape[1]
    let scale = map == .diverging ? largestMagnitude(heatmap) : 1
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for index in 0..<(width * height) {
        let value = scale > 0 ? heatmap.data[index] / scale : heatmap.data[index].isInfinite ? heatmap.data[index] : 0
        let color = map.color(value)
        pixels[index * 3] = color.red
        pixels[index * 3 + 1] = color.green
        pixels[index * 3 + 2] = color.blue
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

/// A heatmap [H, W] laid over a picture. A heatmap of another size is first resized to the
/// picture with bilinear interpolation (as pytorch-grad-cam does with `cv2.resize`).
///
/// `.jet`, exactly pytorch-grad-cam's `show_cam_on_image(image, mask, use_rgb=True)` with
/// image weight w = 0.5, per channel, with image and colour in 0…1:
///
///     blend = w · image + (1 − w) · jet(mask)
///     out   = ⌊255 · blend / max(blend)⌋          (max over the whole picture)
///
/// `.diverging`: the colour covers the picture in proportion to the evidence, so that
/// pixels with attribution 0 show the picture unchanged and the strongest ones are mostly
/// colour, with t = value / max|value|:
///
///     α   = 0.75 · |t|
///     out = (1 − α) · image + α · bwr(t)
public func overlay(_ heatmap: Tensor, on image: RGBImage, map: ColorMap, imageWeight: Float = 0.5) -> RGBImage {
    precondition(heatmap.rank == 2, "overlay needs a heatmap [H, W], got \(heatmap.shape)")
    let resized = (heatmap.shape == [image.height, image.width])
        ? heatmap
        : bilinearResize(heatmap, height: image.height, width: image.width)
    let pixelCount = image.width * image.height
    switch map {
    case .jet:
        var blend = [Float](repeating: 0, count: pixelCount * 3)
        let colored = colorize(resized, map: .jet)
        for index in 0..<(pixelCount * 3) {
            blend[index] = imageWeight * (Float(image.pixels[index]) / 255)
                + (1 - imageWeight) * (Float(colored.pixels[index]) / 255)
        }
        let brightest = blend.max() ?? 0
        let pixels = blend.map { value -> UInt8 in
            brightest > 0 ? clampedByte(255 * (value / brightest)) : 0
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    case .diverging, .whiteToBlack:
        // white-to-black reads 0…1 as it is; diverging divides by the largest |value|.
        let scale = map == .diverging ? largestMagnitude(resized) : 1
        var pixels = [UInt8](repeating: 0, count: pixelCount * 3)
        for index in 0..<pixelCount {
            let value = resized.data[index]
            // NaN shows the picture unchanged, like 0; ±∞ is full strength.
            let strength = value.isNaN ? 0 : scale > 0 ? value / scale : (value.isInfinite ? value : 0)
            let color = map.color(strength)
            let alpha = 0.75 * Swift.min(abs(strength), 1)
            let channels = [color.red, color.green, color.blue]
            for channel in 0..<3 {
                let mixed = (1 - alpha) * Float(image.pixels[index * 3 + channel]) + alpha * Float(channels[channel])
                pixels[index * 3 + channel] = clampedByte(mixed.rounded())
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }
}
