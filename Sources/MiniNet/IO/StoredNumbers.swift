import Foundation

/// The number formats that tensor files (.npy, .safetensors) store, all little-endian, and
/// how each becomes MiniNet's Float32.
enum StoredNumberFormat: Sendable {
    /// IEEE 754 half precision: 1 sign, 5 exponent, 10 fraction bits.
    case float16
    /// "brain float": the top 16 bits of a Float32 (1 sign, 8 exponent, 7 fraction bits).
    case bfloat16
    case float32
    /// Rounded to the nearest Float32.
    case float64
    /// Converted exactly up to 2^24, rounded to the nearest Float32 beyond.
    case int64
    case int32
    case uint8

    /// Bytes per element.
    var byteSize: Int {
        switch self {
        case .float16, .bfloat16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8: return 1
        }
    }

    /// Decodes `count` consecutive little-endian elements starting at byte `offset` of `bytes`.
    /// The caller has checked that offset + count·byteSize ≤ bytes.count.
    func decode(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int) -> [Float] {
        precondition(offset >= 0 && count >= 0 && offset + count * byteSize <= bytes.count,
                     "decode past the end of the buffer")
        var values = [Float](repeating: 0, count: count)
        // loadUnaligned: a tensor's offset inside a file need not be a multiple of its size.
        func load<T: FixedWidthInteger>(_ index: Int, as type: T.Type) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + index * byteSize, as: T.self))
        }
        switch self {
        case .float16:
            for index in 0..<count { values[index] = floatFromHalfBits(load(index, as: UInt16.self)) }
        case .bfloat16:
            for index in 0..<count { values[index] = Float(bitPattern: UInt32(load(index, as: UInt16.self)) << 16) }
        case .float32:
            for index in 0..<count { values[index] = Float(bitPattern: load(index, as: UInt32.self)) }
        case .float64:
            for index in 0..<count { values[index] = Float(Double(bitPattern: load(index, as: UInt64.self))) }
        case .int64:
            for index in 0..<count { values[index] = Float(load(index, as: Int64.self)) }
        case .int32:
            for index in 0..<count { values[index] = Float(load(index, as: Int32.self)) }
        case .uint8:
            for index in 0..<count { values[index] = Float(load(index, as: UInt8.self)) }
        }
        return values
    }
}

/// Appends each value as 4 little-endian bytes of IEEE 754 single precision.
func appendFloat32LittleEndian(_ values: [Float], to data: inout Data) {
    var bytes = [UInt8]()
    bytes.reserveCapacity(values.count * 4)
    for value in values {
        let bits = value.bitPattern
        bytes.append(UInt8(truncatingIfNeeded: bits))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
    }
    data.append(contentsOf: bytes)
}

/// Converts IEEE 754 half-precision bits to Float32, written out so the format is visible:
///
///     bits = s eeeee ffffffffff
///     normal    (e = 1…30):  (−1)^s · 2^(e−15) · (1 + f/1024)
///     subnormal (e = 0):     (−1)^s · 2^(−14) · (f/1024)
///     e = 31:                ±infinity (f = 0) or NaN (f ≠ 0)
///
/// Every half value is exactly representable as a Float32, so this conversion is exact.
func floatFromHalfBits(_ bits: UInt16) -> Float {
    let sign: Float = (bits & 0x8000) != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1F)
    let fraction = Float(bits & 0x3FF)
    switch exponent {
    case 0:
        return sign * Float.pow2(-14) * (fraction / 1024)
    case 31:
        return fraction == 0 ? sign * Float.infinity : Float.nan
    default:
        return sign * Float.pow2(exponent - 15) * (1 + fraction / 1024)
    }
}

private extension Float {
    /// 2^exponent, exact for the exponents half precision uses (−24…15).
    static func pow2(_ exponent: Int) -> Float {
        Float(sign: .plus, exponent: exponent, significand: 1)
    }
}

/// The product of `shape` times `elementSize` (the byte size of a tensor), or nil when it
/// does not fit in an Int. A hostile header could otherwise make us wrap around and trust a
/// tiny payload for a huge shape.
func checkedByteCount(shape: [Int], elementSize: Int) -> (elements: Int, bytes: Int)? {
    var elements = 1
    for dimension in shape {
        let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
        if overflow { return nil }
        elements = product
    }
    let (bytes, overflow) = elements.multipliedReportingOverflow(by: elementSize)
    return overflow ? nil : (elements, bytes)
}
