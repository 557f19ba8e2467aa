import CKernels

/// A small, fast, seedable random number generator whose output is the same on every
/// platform and Swift version.
///
/// Algorithm: SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014; the version used by Java's `SplittableRandom`). The state is
/// one 64-bit counter; each call adds the odd constant γ = 0x9E3779B97F4A7C15 (2⁶⁴ / golden
/// ratio) and scrambles the counter with a bijective "finalizer":
///
///     state ← state + γ                         (mod 2⁶⁴)
///     z ← (state ⊕ (state ≫ 30)) · 0xBF58476D1CE4E5B9
///     z ← (z ⊕ (z ≫ 27)) · 0x94D049BB133111EB
///     output z ⊕ (z ≫ 31)
///
/// Period 2⁶⁴, passes BigCrush, and needs nothing but wrapping integer arithmetic.
///
/// Why not `Double.random(in:using:)` or `Array.shuffled(using:)`? Their algorithms are not
/// specified by the standard library and may change between Swift versions, so a data set
/// built with them could silently change. Every helper below (`nextUniform`, `uniform`,
/// `integer(below:)`, `normal`) is written out here from integer bits and IEEE-754 basic
/// operations, so the same seed gives the same numbers everywhere.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The SplitMix64 counter.
    public private(set) var state: UInt64

    /// γ: the golden-ratio increment of SplitMix64.
    private static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// A generator whose first output is `mix(seed + γ)`.
    public init(seed: UInt64) {
        state = seed
    }

    /// An independent generator for sub-stream `stream` of `seed`, e.g. sample `i` of a data
    /// set, so that any element can be generated on its own (random access) without
    /// generating the ones before it.
    ///
    ///     state₀ = mix(seed ⊕ mix(stream + γ))
    ///
    /// `mix` is the bijective finalizer above, so different (seed, stream) pairs start at
    /// unrelated, scattered points of the 2⁶⁴ cycle; the short runs we draw from each (a few
    /// thousand numbers) overlap with vanishing probability.
    public init(seed: UInt64, stream: UInt64) {
        state = SeededGenerator.mix(seed ^ SeededGenerator.mix(stream &+ SeededGenerator.increment))
    }

    /// The SplitMix64 finalizer: a bijection of 64-bit words with good avalanche (each input
    /// bit flips each output bit with probability ≈ ½).
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= SeededGenerator.increment
        return SeededGenerator.mix(state)
    }

    /// A uniform Float in [0, 1): the top 24 bits of `next()` (a Float has a 24-bit
    /// significand) times 2⁻²⁴, so every value k·2⁻²⁴, k = 0 … 2²⁴−1, is equally likely and the
    /// conversion is exact.
    @inline(__always)
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A uniform Float in [low, high]: low + (high − low)·u with u = `nextUniform()`.
    /// (Rounding may occasionally give exactly `high`.)
    @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * nextUniform()
    }

    /// A uniform integer in 0 ..< bound, without modulo bias.
    ///
    /// Lemire's method ("Fast random integer generation in an interval", 2019): the 128-bit
    /// product x · bound of a random 64-bit x has its high word uniform in 0 ..< bound once
    /// the low word is at least 2⁶⁴ mod bound; the rare smaller low words are redrawn.
    public mutating func integer(below bound: Int) -> Int {
        precondition(bound > 0, "integer(below:) needs a positive bound, got \(bound)")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range  // 2⁶⁴ mod bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// `count` standard normal values, taken from `normalPair` two at a time (the second of the
    /// last pair is dropped when `count` is odd).
    public mutating func standardNormals(count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        var index = 0
        while index < count {
            let (first, second) = normalPair()
            values[index] = first
            if index + 1 < count { values[index + 1] = second }
            index += 2
        }
        return values
    }

    /// Two independent standard normal samples (mean 0, standard deviation 1) by the
    /// Box–Muller transform:
    ///
    ///     z₀ = √(−2 ln u₁) · cos(2π u₂),   z₁ = √(−2 ln u₁) · sin(2π u₂),   u₁ ∈ (0, 1], u₂ ∈ [0, 1)
    ///
    /// `ln`, `cos` and `sin` come from `PortableMath` (plain polynomial arithmetic) rather
    /// than the platform's libm, whose last bits may differ between operating systems.
    public mutating func normalPair() -> (Float, Float) {
        let (radius, angle) = nextBoxMullerPolar()
        let (cosine, sine) = PortableMath.cosAndSin(angle)
        return (Float(radius * cosine), Float(radius * sine))
    }

    /// The next `count` samples of `normal()`, each times `scale` (`normal() * scale`), bit for bit
    /// as one call after another would give them: SplitMix64's counter tells each sample its two
    /// words without drawing the ones before, so a C loop (`tutor_standard_normals`) computes them
    /// side by side at the vector width in use, with PortableMath's operations in their order.
    /// For the tens of millions of weights of a ResNet's re-initialisation.
    public mutating func normals(count: Int, scale: Float) -> [Float] {
        guard count > 0 else { return [] }
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialised in
            tutor_standard_normals(state, SeededGenerator.increment, count, scale, buffer.baseAddress!)
            initialised = count
        }
        state &+= UInt64(2 * count) &* SeededGenerator.increment
        return values
    }

    /// One standard normal sample: the first of `normalPair()` (it uses the same two draws,
    /// and skips computing the sine).
    public mutating func normal() -> Float {
        let (radius, angle) = nextBoxMullerPolar()
        return Float(radius * PortableMath.cos(angle))
    }

    /// √(−2 ln u₁) and 2π u₂ from two 53-bit uniforms.
    @inline(__always)
    private mutating func nextBoxMullerPolar() -> (radius: Double, angle: Double) {
        let u1 = 1 - Double(next() >> 11) * 0x1p-53  // (0, 1]: never ln 0
        let u2 = Double(next() >> 11) * 0x1p-53      // [0, 1)
        return ((-2 * PortableMath.log(u1)).squareRoot(), 2 * Double.pi * u2)
    }
}
