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

    /// Reads a PNG of any colour type and bit depth, converted to 8-bit RGB (alpha dropped).
    public static func read(from path: String) throws -> RGBImage {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MiniNetError.file(path, "no such file")
        }
        var width: Int32 = 0
        var height: Int32 = 0
        var buffer: UnsafeMutablePointer<UInt8>?
        var message = [CChar](repeating: 0, count: 256)
        let status = tutor_png_read_rgb(path, &width, &height, &buffer, &message, message.count)
        guard status == 0, let buffer else {
            let reason = String(cString: message)
            throw MiniNetError.file(path, "not a readable PNG image (\(reason.isEmpty ? "unknown error" : reason))")
        }
        defer { tutor_png_free(buffer) }
        let count = Int(width) * Int(height) * 3
        let pixels = Array(UnsafeBufferPointer(start: buffer, count: count))
        return RGBImage(width: Int(width), height: Int(height), pixels: pixels)
    }

    /// Writes a PNG. The file appears complete or not at all: it is written beside the
    /// destination under a temporary name and then renamed.
    public func write(to path: String) throws {
        let temporary = path + ".partial-\(getpid())"
        var message = [CChar](repeating: 0, count: 256)
        let status = tutor_png_write_rgb(temporary, Int32(width), Int32(height), pixels, &message, message.count)
        guard status == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw MiniNetError.file(path, "could not write PNG (\(String(cString: message)))")
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw MiniNetError.file(path, "could not write PNG (rename failed)")
        }
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

    /// A picture from a [3, H, W] tensor with values in 0…1 (clamped, rounded to the nearest byte).
    public init(tensor: Tensor) {
        precondition(tensor.rank == 3 && tensor.shape[0] == 3, "RGBImage needs [3, H, W], got \(tensor.shape)")
        let height = tensor.shape[1]
        let width = tensor.shape[2]
        let planeSize = width * height
        var pixels = [UInt8](repeating: 0, count: planeSize * 3)
        for index in 0..<planeSize {
            for channel in 0..<3 {
                let value = Swift.min(Swift.max(tensor.data[channel * planeSize + index], 0), 1)
                pixels[index * 3 + channel] = UInt8((value * 255).rounded())
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}
