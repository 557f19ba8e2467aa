/// `log`, `cos` and `sin` built only from IEEE-754 basic operations (+ − × ÷, rounding,
/// exponent/significand split), which every platform computes bit-identically.
///
/// The platform's libm (glibc, Apple's libm) may round transcendental functions differently
/// in the last bit; a single flipped bit in an angle can move a shape edge across a
/// sub-sample and change a data set image. These versions are accurate to ~1e-14, far more
/// than 8-bit pictures need, and give the same bits everywhere.
enum PortableMath {
    static let ln2 = 0.693_147_180_559_945_309_417_232_121_458

    /// Natural logarithm for x > 0.
    ///
    ///     x = m · 2ᵉ with m ∈ [√½, √2)      (exact: read from the IEEE-754 bit fields)
    ///     ln x = e · ln 2 + ln m
    ///     ln m = 2 · artanh(s) = 2 (s + s³/3 + s⁵/5 + …),   s = (m − 1)/(m + 1), |s| ≤ 0.172
    ///
    /// Terms up to s¹³/13 leave a relative error below s¹⁵/15 ≈ 2e-13.
    @inline(__always)
    static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite && x.isNormal, "PortableMath.log needs a positive normal number, got \(x)")
        // Bits of a Double: 1 sign, 11 exponent (biased by 1023), 52 fraction: x = 1.f · 2^(E − 1023).
        let bits = x.bitPattern
        var exponent = Double(Int((bits >> 52) & 0x7FF) - 1023)
        var mantissa = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)  // [1, 2)
        if mantissa > 1.414_213_562_373_095 {
            mantissa *= 0.5
            exponent += 1
        }
        let s = (mantissa - 1) / (mantissa + 1)
        let s2 = s * s
        // Horner form of 1 + s²/3 + s⁴/5 + … + s¹²/13.
        var series = 1.0 / 13
        series = 1.0 / 11 + s2 * series
        series = 1.0 / 9 + s2 * series
        series = 1.0 / 7 + s2 * series
        series = 1.0 / 5 + s2 * series
        series = 1.0 / 3 + s2 * series
        series = 1 + s2 * series
        return exponent * ln2 + 2 * s * series
    }

    /// Cosine and sine of x together (one range reduction for both).
    ///
    ///     q = round(x / (π/2)),   t = x − q · π/2 ∈ [−π/4, π/4]
    ///     cos t = 1 − t²/2! + t⁴/4! − … + t¹²/12!      (error < (π/4)¹⁴/14! ≈ 4e-13)
    ///     sin t = t − t³/3! + t⁵/5! − … + t¹³/13!      (error < (π/4)¹⁵/15! ≈ 2e-14)
    ///     (cos x, sin x) = (cos t, sin t), (−sin t, cos t), (−cos t, −sin t), (sin t, −cos t)
    ///                      for q mod 4 = 0, 1, 2, 3 (a quarter turn each).
    ///
    /// That is far below Float resolution (6e-8), which is all the pictures use; for the
    /// moderate angles used here (|x| ≲ 100) the reduction adds an error of ~1e-14.
    @inline(__always)
    static func cosAndSin(_ x: Double) -> (cos: Double, sin: Double) {
        let quarterTurns = (x * (2 / Double.pi)).rounded()
        let t = x - quarterTurns * (Double.pi / 2)
        let t2 = t * t
        // Horner forms: 1 − t²/(1·2) (1 − t²/(3·4) (… (1 − t²/(11·12))))
        //           and t (1 − t²/(2·3) (1 − t²/(4·5) (… (1 − t²/(12·13)))))
        var cosine = 1 - t2 * (1.0 / 132)
        cosine = 1 - t2 * (1.0 / 90) * cosine
        cosine = 1 - t2 * (1.0 / 56) * cosine
        cosine = 1 - t2 * (1.0 / 30) * cosine
        cosine = 1 - t2 * (1.0 / 12) * cosine
        cosine = 1 - t2 * (1.0 / 2) * cosine
        var sine = 1 - t2 * (1.0 / 156)
        sine = 1 - t2 * (1.0 / 110) * sine
        sine = 1 - t2 * (1.0 / 72) * sine
        sine = 1 - t2 * (1.0 / 42) * sine
        sine = 1 - t2 * (1.0 / 20) * sine
        sine = 1 - t2 * (1.0 / 6) * sine
        sine *= t
        // q mod 4 in 0…3, also for negative q.
        switch ((Int(quarterTurns) % 4) + 4) % 4 {
        case 0: return (cosine, sine)
        case 1: return (-sine, cosine)
        case 2: return (-cosine, -sine)
        default: return (sine, -cosine)
        }
    }

    @inline(__always)
    static func cos(_ x: Double) -> Double { cosAndSin(x).cos }

    @inline(__always)
    static func sin(_ x: Double) -> Double { cosAndSin(x).sin }
}
