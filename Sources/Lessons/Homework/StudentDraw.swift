/// 64-bit FNV-1a hash of a string's UTF-8 bytes.
///
///     h₀ = 14695981039346656037,   hᵢ₊₁ = (hᵢ XOR byteᵢ) · 1099511628211   (mod 2⁶⁴)
///
/// Stable across runs, machines and Swift versions, unlike `hashValue`, which Swift seeds
/// randomly for every process.
public func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 14_695_981_039_346_656_037
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 1_099_511_628_211
    }
    return hash
}

/// The dice an exercise generator throws: a SplitMix64 stream whose seed fixes every number of
/// one (exercise, student) pair.
///
/// Practice mode seeds it with FNV-1a of "exercise id/student id": anyone can reproduce any
/// student's numbers, which is what self-study wants. Course mode seeds it with the first 8 bytes
/// of HMAC-SHA256(course secret, "exercise id/student id") (`Course.seed`), which nobody without
/// the course file can compute.
///
/// The helpers below do their own arithmetic instead of calling `Int.random(in:using:)`,
/// whose algorithm the standard library may change: homework must not change with the compiler.
public struct StudentDraw {
    private var state: UInt64

    /// Practice mode: seeded by FNV-1a("exercise/student").
    public init(exercise: String, student: String) {
        state = fnv1a64(exercise + "/" + student)
    }

    /// Any seed, such as a course's HMAC-derived one.
    public init(seed: UInt64) {
        state = seed
    }

    /// SplitMix64 (Steele, Lea & Flood 2014): a counter passed through a bit mixer.
    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A whole number in `range` (the tiny modulo bias does not matter for homework).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(next() % width)
    }

    /// A whole number in `range` other than 0.
    public mutating func nonZeroInt(_ range: ClosedRange<Int>) -> Int {
        while true {
            let value = int(range)
            if value != 0 { return value }
        }
    }

    /// `count` whole numbers in `range`, as Doubles ready for arithmetic.
    public mutating func values(_ count: Int, in range: ClosedRange<Int>) -> [Double] {
        (0..<count).map { _ in Double(int(range)) }
    }

    /// A `rows`×`columns` matrix of whole numbers in `range`.
    public mutating func matrix(_ rows: Int, _ columns: Int, in range: ClosedRange<Int>) -> [[Double]] {
        (0..<rows).map { _ in values(columns, in: range) }
    }

    public mutating func pick<T>(_ items: [T]) -> T {
        items[int(0...(items.count - 1))]
    }

    /// Fisher–Yates shuffle.
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var result = items
        var index = result.count - 1
        while index > 0 {
            result.swapAt(index, int(0...index))
            index -= 1
        }
        return result
    }

    /// A 3×3 map of whole numbers whose mean is exactly `mean`: the cells are `mean` plus
    /// four ±v pairs (v ≤ `spread`) placed at random, so the deviations cancel.
    public mutating func mapWithMean(_ mean: Int, spread: Int) -> [[Double]] {
        var deviations = [0]
        for _ in 0..<4 {
            let step = int(0...spread)
            deviations += [step, -step]
        }
        let cells = shuffled(deviations).map { Double(mean + $0) }
        return [Array(cells[0..<3]), Array(cells[3..<6]), Array(cells[6..<9])]
    }
}
