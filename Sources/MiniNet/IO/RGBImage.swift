import CPNG
import Foundation

/// An 8-bit RGB picture: `pixels` holds width·height·3 bytes, row by row, R G B per pixel.
public struct RGBImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "\(pixels.count) bytes for a \(width)×\(height) RGB image")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The largest picture `read` decodes: 8192 pixels per side and 40 megapixels in all.
    /// Far above any photo a lesson needs, far below what a small hostile file can claim
    /// (a 32 KB PNG can declare 16384 × 16384 pixels and would take gigabytes to decode).
    public static let maximumSide = Int(TUTOR_PNG_MAX_SIDE)
    public static let maximumPixelCount = Int(TUTOR_PNG_MAX_PIXELS)
    /// The largest PNG file `read` opens (256 MiB), well above 40 megapixels stored uncompressed.
    public static let maximumFileBytes = 256 << 20

    /// Reads a PNG of any colour type and bit depth, converted to 8-bit RGB (alpha dropped).
    /// Only regular files are read (a FIFO would block forever), and the header's size is
    /// checked against `maximumSide` and `maximumPixelCount` before any pixel is decoded.
    public static func read(from path: String) throws -> RGBImage {
        try RegularFile.check(path, maximumBytes: maximumFileBytes)
        return try decoded(path: path) { width, height, buffer, message in
            tutor_png_read_rgb(path, &width, &height, &buffer, message.baseAddress, message.count)
        }
    }

    /// Decodes the bytes of a PNG file already in memory, with the same checks as `read`;
    /// `path` only names the file in error messages.
    public static func decodePNG(_ bytes: [UInt8], path: String) throws -> RGBImage {
        try decoded(path: path) { width, height, buffer, message in
            tutor_png_decode_rgb(bytes, bytes.count, &width, &height, &buffer, message.baseAddress, message.count)
        }
    }

    /// Runs one of CPNG's decoders (`decode` returns its status) and copies out the pixels.
    private static func decoded(
        path: String,
        _ decode: (inout Int32, inout Int32, inout UnsafeMutablePointer<UInt8>?, UnsafeMutableBufferPointer<CChar>) -> Int32
    ) throws -> RGBImage {
        var width: Int32 = 0
        var height: Int32 = 0
        var buffer: UnsafeMutablePointer<UInt8>?
        var message = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeMutableBufferPointer { decode(&width, &height, &buffer, $0) }
        guard status == 0, let buffer else {
            let reason = String(cString: message)
            throw MiniNetError.file(path, "not a readable PNG image (\(reason.isEmpty ? "unknown error" : reason))")
        }
        defer { tutor_png_free(buffer) }
        let count = Int(width) * Int(height) * 3
        let pixels = Array(UnsafeBufferPointer(start: buffer, count: count))
        return RGBImage(width: Int(width), height: Int(height), pixels: pixels)
    }

    /// Writes a PNG. The file appears complete or not at all (see `writeFileAtomically`):
    /// the picture is encoded in memory, written beside the destination under a temporary
    /// name and then renamed, so a failed write leaves an existing file as it was.
    public func write(to path: String) throws {
        try writeFileAtomically(pngData(naming: path), to: path)
    }

    /// The picture encoded as a PNG file in memory (for a page that carries its pictures
    /// inline); `name` is what an error message calls it.
    public func pngData(naming name: String = "picture") throws -> Data {
        var bytes: UnsafeMutablePointer<UInt8>?
        var count = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = tutor_png_encode_rgb(Int32(width), Int32(height), pixels, &bytes, &count, &message, message.count)
        guard status == 0, let bytes else {
            throw MiniNetError.file(name, "could not encode PNG (\(String(cString: message)))")
        }
        defer { tutor_png_free(bytes) }
        return Data(bytes: bytes, count: count)
    }

    /// The picture as a [3, H, W] tensor with values in 0…1 (value = byte / 255), like
    /// torchvision's ToTensor.
    public func toTensor() -> Tensor {
        var data = [Float](repeating: 0, count: pixels.count)
        let planeSize = width * height
        for index in 0..<planeSize {
            for channel in 0..<3 {
                data[channel * planeSize + index] = Float(pixels[index * 3 + channel]) / 255
            }
        }
        return Tensor(shape: [3, height, width], data: data)
    }

    /// A picture from a [3, H, W] tensor with values in 0…1 (clamped, rounded to the nearest
    /// byte; NaN becomes 0, so a broken tensor still gives a picture rather than a crash).
    public init(tensor: Tensor) {
        precondition(tensor.rank == 3 && tensor.shape[0] == 3, "RGBImage needs [3, H, W], got \(tensor.shape)")
        let height = tensor.shape[1]
        let width = tensor.shape[2]
        let planeSize = width * height
        var pixels = [UInt8](repeating: 0, count: planeSize * 3)
        for index in 0..<planeSize {
            for channel in 0..<3 {
                pixels[index * 3 + channel] = clampedByte((tensor.data[channel * planeSize + index] * 255).rounded())
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}

/// `value` (on the 0…255 scale) as a byte, for every Float: NaN gives 0, values below 0 or
/// above 255 (infinities too) are clamped, a fraction is cut off. `UInt8(value)` would
/// instead stop the program on NaN or on anything out of range.
public func clampedByte(_ value: Float) -> UInt8 {
    guard !value.isNaN else { return 0 }
    return UInt8(Swift.min(Swift.max(value, 0), 255))
}
