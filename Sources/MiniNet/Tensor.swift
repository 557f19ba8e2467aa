import Foundation

/// A Float32 tensor: a shape and a contiguous, row-major buffer of values.
public struct Tensor: Equatable, Sendable {
    /// The size of each dimension, outermost first, e.g. [N, C, H, W].
    public var shape: [Int]
    /// The values, row-major; `data.count == shape.reduce(1, *)`.
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor whose values are all written by `initializer`, which receives the uninitialised
    /// buffer of `shape.reduce(1, *)` values. The layers use it to skip clearing a buffer that
    /// their loop fills completely anyway.
    public init(shape: [Int], initializingWith initializer: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.init(shape: shape, data: [Float](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            initializer(buffer)
            initializedCount = count
        })
    }

    /// A rank-0 tensor holding one number.
    public init(scalar: Float) {
        self.init(shape: [], data: [scalar])
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Strides in elements, e.g. [C·H·W, H·W, W, 1] for [N, C, H, W].
    public var strides: [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    public func offset(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "\(indices.count) indices for shape \(shape)")
        var offset = 0
        for (axis, index) in indices.enumerated() {
            precondition(index >= 0 && index < shape[axis], "index \(index) out of range for axis \(axis) of \(shape)")
            offset = offset * shape[axis] + index
        }
        return offset
    }

    public subscript(_ indices: Int...) -> Float {
        get { data[offset(indices)] }
        set { data[offset(indices)] = newValue }
    }

    /// The same values under a new shape with the same number of elements.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Element `index` of the first axis, e.g. one image [C, H, W] of a batch [N, C, H, W].
    public func slice(_ index: Int) -> Tensor {
        precondition(rank >= 1 && index >= 0 && index < shape[0], "slice \(index) out of range for \(shape)")
        let inner = Array(shape.dropFirst())
        let size = inner.reduce(1, *)
        return Tensor(shape: inner, data: Array(data[(index * size)..<((index + 1) * size)]))
    }

    /// Stacks equally shaped tensors along a new first axis.
    public static func stack(_ tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty, "stack of no tensors")
        let inner = tensors[0].shape
        var data = [Float]()
        data.reserveCapacity(inner.reduce(1, *) * tensors.count)
        for tensor in tensors {
            precondition(tensor.shape == inner, "stack of shapes \(inner) and \(tensor.shape)")
            data.append(contentsOf: tensor.data)
        }
        return Tensor(shape: [tensors.count] + inner, data: data)
    }

    /// transform applied to every value. A large tensor is shared out over the threads
    /// (`Parallel.forRanges`), so `transform` must depend on its argument alone.
    public func map(_ transform: (Float) -> Float) -> Tensor {
        Tensor(shape: shape) { out in
            data.withUnsafeBufferPointer { values in
                Parallel.forRanges(out.count) { range in
                    for index in range { out[index] = transform(values[index]) }
                }
            }
        }
    }

    /// Sum of all elements, accumulated in Double so that identities can be checked tightly
    /// (`Parallel.blockSum`: the same bits for any thread count and processor).
    public func sum() -> Double {
        data.withUnsafeBufferPointer { values in
            Parallel.blockSum(values.count) { range in sumInLanes(values, range, magnitudes: false) }
        }
    }

    /// Σ |x_i|, accumulated like `sum()`: the size of the terms a sum of these values adds up.
    public func magnitudeSum() -> Double {
        data.withUnsafeBufferPointer { values in
            Parallel.blockSum(values.count) { range in sumInLanes(values, range, magnitudes: true) }
        }
    }

    public func mean() -> Double { count == 0 ? 0 : sum() / Double(count) }

    public var min: Float { data.min() ?? 0 }
    public var max: Float { data.max() ?? 0 }

    /// Index of the largest element (first on ties).
    public var argmax: Int {
        var best = 0
        for index in data.indices where data[index] > data[best] { best = index }
        return best
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "adding shapes \(lhs.shape) and \(rhs.shape)")
        return Tensor(shape: lhs.shape) { out in
            lhs.data.withUnsafeBufferPointer { first in
                rhs.data.withUnsafeBufferPointer { second in
                    Parallel.forRanges(out.count) { range in
                        for index in range { out[index] = first[index] + second[index] }
                    }
                }
            }
        }
    }

    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "subtracting shapes \(lhs.shape) and \(rhs.shape)")
        return Tensor(shape: lhs.shape) { out in
            lhs.data.withUnsafeBufferPointer { first in
                rhs.data.withUnsafeBufferPointer { second in
                    Parallel.forRanges(out.count) { range in
                        for index in range { out[index] = first[index] - second[index] }
                    }
                }
            }
        }
    }

    /// Element-wise (Hadamard) product.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "multiplying shapes \(lhs.shape) and \(rhs.shape)")
        return Tensor(shape: lhs.shape) { out in
            lhs.data.withUnsafeBufferPointer { first in
                rhs.data.withUnsafeBufferPointer { second in
                    Parallel.forRanges(out.count) { range in
                        for index in range { out[index] = first[index] * second[index] }
                    }
                }
            }
        }
    }

    /// Whether both tensors have the same shape and the same bits in every entry (so +0 and −0
    /// differ, and a NaN equals a NaN of the same pattern): the test for reusing a result
    /// computed from `other` exactly.
    public func hasSameBits(as other: Tensor) -> Bool {
        guard shape == other.shape else { return false }
        return data.withUnsafeBytes { mine in
            other.data.withUnsafeBytes { theirs in
                guard let mine = mine.baseAddress, let theirs = theirs.baseAddress else { return true }   // no entries
                return memcmp(mine, theirs, data.count * MemoryLayout<Float>.size) == 0
            }
        }
    }

    /// |x| element by element.
    public var magnitudes: Tensor {
        Tensor(shape: shape) { out in
            data.withUnsafeBufferPointer { values in
                Parallel.forRanges(out.count) { range in
                    for index in range { out[index] = Swift.abs(values[index]) }
                }
            }
        }
    }

    public static func * (lhs: Tensor, scale: Float) -> Tensor {
        lhs.map { $0 * scale }
    }

    public static func += (lhs: inout Tensor, rhs: Tensor) {
        precondition(lhs.shape == rhs.shape, "accumulating shape \(rhs.shape) into \(lhs.shape)")
        lhs.data.withUnsafeMutableBufferPointer { out in
            rhs.data.withUnsafeBufferPointer { other in
                for index in out.indices { out[index] += other[index] }
            }
        }
    }

    /// Largest |a − b| over all elements.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "comparing shapes \(shape) and \(other.shape)")
        var worst: Float = 0
        for index in data.indices { worst = Swift.max(worst, abs(data[index] - other.data[index])) }
        return worst
    }
}

/// Σ values[i], in eight lanes at once. The compiler keeps a plain `total += x` loop in order
/// (floating-point addition is not associative), which stops it from vectorising the sum.
func sumOfValues(_ values: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>()
    var index = 0
    while index + 8 <= count {
        lanes += UnsafeRawPointer(values + index).loadUnaligned(as: SIMD8<Float>.self)
        index += 8
    }
    var total = lanes.sum()
    while index < count { total += values[index]; index += 1 }
    return total
}

/// Σ values[i] (or Σ |values[i]|) over `range` in Double, in eight lanes: value i goes to lane
/// (i − range.lowerBound) mod 8, and the lanes are added in order at the end. The order is fixed
/// by the code, not the processor, and it runs about four times faster than one running total,
/// whose every addition waits for the one before.
func sumInLanes(_ values: UnsafeBufferPointer<Float>, _ range: Range<Int>, magnitudes: Bool) -> Double {
    guard let base = values.baseAddress else { return 0 }
    var lanes = SIMD8<Double>()
    var index = range.lowerBound
    while index + 8 <= range.upperBound {
        let eight = UnsafeRawPointer(base + index).loadUnaligned(as: SIMD8<Float>.self)
        lanes += SIMD8<Double>(magnitudes ? eight.replacing(with: -eight, where: eight .< 0) : eight)
        index += 8
    }
    var total = 0.0
    for lane in 0..<8 { total += lanes[lane] }
    while index < range.upperBound {
        total += Double(magnitudes ? Swift.abs(base[index]) : base[index])
        index += 1
    }
    return total
}
