import XCTest
@testable import MiniNet

/// The one central-difference gradient check used by every MiniNet gradient test.
///
/// For a function y = f(x; θ) with a backward pass, pick a fixed random tensor R shaped like y
/// and the scalar loss
///
///     L(x, θ) = Σ y ⊙ R        so that ∂L/∂y = R.
///
/// Then `backward(R)` must return ∂L/∂x, and leave ∂L/∂θ in every parameter's `gradient`.
/// Each checked element e (of x or of a θ) is compared with the central difference
///
///     n(e) = (L(e + h) − L(e − h)) / 2h
///
/// with L summed in Double (y itself is Float32, computed by the layer under test).
///
/// Choice of h and tolerance for Float32:
/// - The truncation error of a central difference is h²/6 · L‴. With h = 1e-2 it is ≈ 2e-5·L‴,
///   zero for the layers that are linear in the perturbed value (Conv2d, Linear, pooling…),
///   and small for the smooth ones (BatchNorm, softmax) on O(1) data.
/// - Rounding: only the outputs that depend on e change between the two evaluations (the
///   others are recomputed bit for bit), each by a Float32 rounding of ≈ 6e-8 · Σ|terms|, so
///   the quotient carries noise ≈ √(outputs touched) · 6e-8 · Σ|terms| / 2h, a few 1e-5 on
///   our sizes. A smaller h would raise that noise, a larger h the truncation error.
/// - Measured worst errors on the layer sweeps are ≈ 5e-5 at gradients up to ≈ 35. The test
///   |a − n| ≤ 5e-4 + 2e-3·|n| leaves a tenfold margin, yet fails a gradient that is 1 % off
///   (a wrong factor or a missing term). The data are O(1) so that the gradients are O(1) too,
///   and every check also asserts that the analytic gradient is not trivially small,
///   otherwise the absolute tolerance would pass a wrong zero gradient.
///
/// Kinks (ReLU at 0, MaxPool ties) make the central difference meaningless when one lies
/// within h of the point. Single-layer tests place their inputs so that none does (see
/// `spacedValues`). In a network the hidden pre-activations cannot be placed, so for layers the
/// check records the linear piece the network is in (`pieceSignature`: the sign of every ReLU
/// input and the winner of every MaxPool window) and treats an element whose ±h evaluations
/// land in a different piece as non-smooth at that step. Such an element is retried with h/4
/// and h/16 (a BatchNorm γ moves hundreds of hidden units at once, so at h one of them
/// nearly always crosses zero); the absolute tolerance grows as 1/h with it, since the
/// rounding noise of the quotient does. For a bare function without piece information, the
/// element is also differenced with h/2: a kink within h makes the two quotients disagree.
/// Elements non-smooth at every step are counted and skipped; `allowedNonSmoothFraction` (0 by default, so
/// single-layer tests must be kink-free) bounds how many may be.
enum GradientCheck {
    struct Options {
        var step: Double = 1e-2
        var absoluteTolerance: Double = 5e-4
        var relativeTolerance: Double = 2e-3
        /// Tensors with more elements are checked on a deterministic sample of this many.
        var maximumSamples: Int = 200
        /// Share of checked elements allowed to sit within h of a kink (then skipped).
        var allowedNonSmoothFraction: Double = 0
        /// The largest analytic |gradient| of each checked tensor must reach this, so that the
        /// absolute tolerance cannot hide a wrong (e.g. all-zero) gradient.
        var minimumGradientScale: Double = 0.05
        var seed: UInt64 = 12345
    }

    /// What one tensor's comparison found.
    struct TensorReport {
        var name: String
        var checked = 0
        var nonSmooth = 0
        var worstError = 0.0
        var largestAnalytic = 0.0
    }

    // MARK: - Deterministic random numbers

    /// SplitMix64: a tiny, well-mixed generator, so every test draws the same numbers on every machine.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Uniform in [low, high).
        mutating func uniform(_ low: Float, _ high: Float) -> Float {
            low + (high - low) * Float(next() >> 40) / Float(1 << 24)
        }
    }

    /// A tensor of uniform values in [low, high).
    static func uniform(_ shape: [Int], seed: UInt64, _ low: Float = -1, _ high: Float = 1) -> Tensor {
        var random = Random(seed: seed)
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, data: (0..<count).map { _ in random.uniform(low, high) })
    }

    /// Distinct values (k + ½)·spacing for k = −count/2 …, shuffled: no two are closer than
    /// `spacing` and none is closer than spacing/2 to zero, so with spacing > 2h no perturbation
    /// crosses a ReLU kink or changes a MaxPool winner.
    static func spacedValues(_ shape: [Int], seed: UInt64, spacing: Float = 0.05) -> Tensor {
        var random = Random(seed: seed)
        let count = shape.reduce(1, *)
        var values = (0..<count).map { (Float($0 - count / 2) + 0.5) * spacing }
        values.shuffle(using: &random)
        return Tensor(shape: shape, data: values)
    }

    /// All indices of a tensor with `count` elements, or a sorted deterministic sample of `limit`.
    static func sampleIndices(count: Int, limit: Int, seed: UInt64) -> [Int] {
        guard count > limit else { return Array(0..<count) }
        var random = Random(seed: seed)
        var indices = Array(0..<count)
        indices.shuffle(using: &random)
        return Array(indices.prefix(limit)).sorted()
    }

    // MARK: - The check

    /// L = Σ y ⊙ R in Double.
    private static func loss(_ output: Tensor, _ weights: Tensor) -> Double {
        precondition(output.shape == weights.shape, "output shape changed to \(output.shape)")
        var total = 0.0
        for index in output.data.indices { total += Double(output.data[index]) * Double(weights.data[index]) }
        return total
    }

    /// Checks a layer: input gradient, every parameter gradient (by dotted name), accumulation
    /// of parameter gradients over two backward calls, and `zeroGradients()`.
    @discardableResult
    static func check(_ layer: Layer, input: Tensor, options: Options = Options(),
                      file: StaticString = #filePath, line: UInt = #line) -> [TensorReport] {
        let reports = check(
            forward: { layer.run($0) }, backward: { layer.runBackward($0) },
            parameters: layer.namedParameters, zeroGradients: { layer.zeroGradients() },
            pieceSignature: { pieceSignature(layer) },
            input: input, options: options, file: file, line: line)
        checkAccumulation(layer, input: input, seed: options.seed, file: file, line: line)
        return reports
    }

    /// Identifies the linear piece of a piecewise-smooth network after a forward pass: for
    /// every ReLU which inputs were positive, for every MaxPool which input won each window.
    static func pieceSignature(_ layer: Layer) -> [Int] {
        var signature: [Int] = []
        for sublayer in layer.allLayers {
            if let relu = sublayer as? ReLU, let cache = relu.cache {
                signature += cache.output.data.map { $0 > 0 ? 1 : 0 }
            } else if let pool = sublayer as? MaxPool2d, let cache = pool.cache {
                signature += cache.winners
            }
        }
        return signature
    }

    /// The general form: any `forward` with its `backward` (∂L/∂y ↦ ∂L/∂x, accumulating into
    /// `parameters`' gradients). `pieceSignature`, read after a forward, tells which smooth piece
    /// the function is in (see above); without it, kinks are detected by the h/2 comparison.
    @discardableResult
    static func check(forward: (Tensor) -> Tensor, backward: (Tensor) -> Tensor,
                      parameters: [(name: String, parameter: Parameter)] = [], zeroGradients: () -> Void = {},
                      pieceSignature: (() -> [Int])? = nil,
                      input: Tensor, options: Options = Options(),
                      file: StaticString = #filePath, line: UInt = #line) -> [TensorReport] {
        // Analytic gradients at the unperturbed point.
        zeroGradients()
        let output = forward(input)
        let basePiece = pieceSignature?()
        let outputWeights = uniform(output.shape, seed: options.seed ^ 0xA5A5, -1, 1)
        /// L at a perturbed point, and whether that point lies in another smooth piece.
        func evaluate(_ point: Tensor) -> (loss: Double, changedPiece: Bool) {
            let value = loss(forward(point), outputWeights)
            guard let pieceSignature, let basePiece else { return (value, false) }
            return (value, pieceSignature() != basePiece)
        }
        let analyticInput = backward(outputWeights)
        XCTAssertEqual(analyticInput.shape, input.shape, "input gradient shape", file: file, line: line)
        let analyticParameters = parameters.map { $0.parameter.gradient }

        var reports: [TensorReport] = []
        // Input.
        var point = input
        reports.append(compare(
            name: "input", analytic: analyticInput, count: input.count, knowsPieces: basePiece != nil, options: options,
            perturbedLoss: { index, delta in
                let saved = point.data[index]
                point.data[index] = Float(Double(saved) + delta)
                defer { point.data[index] = saved }
                return evaluate(point)
            }, file: file, line: line))
        // Parameters, perturbed in place and restored.
        for (offset, (name, parameter)) in parameters.enumerated() {
            reports.append(compare(
                name: name, analytic: analyticParameters[offset], count: parameter.value.count,
                knowsPieces: basePiece != nil, options: options,
                perturbedLoss: { index, delta in
                    let saved = parameter.value.data[index]
                    parameter.value.data[index] = Float(Double(saved) + delta)
                    defer { parameter.value.data[index] = saved }
                    return evaluate(input)
                }, file: file, line: line))
        }
        return reports
    }

    private static func compare(name: String, analytic: Tensor, count: Int, knowsPieces: Bool, options: Options,
                                perturbedLoss: (Int, Double) -> (loss: Double, changedPiece: Bool),
                                file: StaticString, line: UInt) -> TensorReport {
        var report = TensorReport(name: name)
        XCTAssertEqual(analytic.count, count, "\(name): gradient has \(analytic.count) elements, value \(count)", file: file, line: line)
        guard analytic.count == count, count > 0 else { return report }
        let h = options.step
        func tolerance(_ numeric: Double) -> Double { options.absoluteTolerance + options.relativeTolerance * abs(numeric) }
        var failures: [String] = []
        for index in sampleIndices(count: count, limit: options.maximumSamples, seed: options.seed &+ UInt64(count)) {
            let value = Double(analytic.data[index])
            report.checked += 1
            report.largestAnalytic = max(report.largestAnalytic, abs(value))
            var numeric: Double?
            var noiseScale = 1.0  // h / (the step used)
            if knowsPieces {
                for shrink in [1.0, 4.0, 16.0] {
                    let (plus, minus) = (perturbedLoss(index, h / shrink), perturbedLoss(index, -h / shrink))
                    if !plus.changedPiece && !minus.changedPiece {
                        numeric = (plus.loss - minus.loss) / (2 * h / shrink)
                        noiseScale = shrink
                        break
                    }
                }
            } else {
                let full = (perturbedLoss(index, h).loss - perturbedLoss(index, -h).loss) / (2 * h)
                let half = (perturbedLoss(index, h / 2).loss - perturbedLoss(index, -h / 2).loss) / h
                if abs(full - half) <= tolerance(full) { numeric = full }
            }
            guard let numeric else {
                report.nonSmooth += 1
                continue
            }
            let error = abs(value - numeric)
            report.worstError = max(report.worstError, error)
            let allowed = options.absoluteTolerance * noiseScale + options.relativeTolerance * abs(numeric)
            if error > allowed, failures.count < 5 {
                failures.append("[\(index)] analytic \(value), numeric \(numeric)")
            }
        }
        XCTAssert(failures.isEmpty, "\(name): gradient differs from central difference at \(failures.joined(separator: "; "))",
                  file: file, line: line)
        let allowed = Int((options.allowedNonSmoothFraction * Double(report.checked)).rounded(.down))
        XCTAssertLessThanOrEqual(report.nonSmooth, allowed,
                                 "\(name): \(report.nonSmooth) of \(report.checked) elements lie within h of a kink",
                                 file: file, line: line)
        XCTAssertGreaterThanOrEqual(report.largestAnalytic, options.minimumGradientScale,
                                    "\(name): gradient too small (max |g| \(report.largestAnalytic)) for the tolerance to mean anything",
                                    file: file, line: line)
        return report
    }

    /// Parameter gradients accumulate: forward once, backward twice gives twice the gradient
    /// (and the same input gradient both times); `zeroGradients()` then clears every one.
    static func checkAccumulation(_ layer: Layer, input: Tensor, seed: UInt64 = 7,
                                  file: StaticString = #filePath, line: UInt = #line) {
        layer.zeroGradients()
        let output = layer.run(input)
        let outputWeights = uniform(output.shape, seed: seed ^ 0x5A5A, -1, 1)
        let firstInputGradient = layer.runBackward(outputWeights)
        let once = layer.namedParameters.map { $0.parameter.gradient }
        let secondInputGradient = layer.runBackward(outputWeights)
        XCTAssertEqual(firstInputGradient, secondInputGradient, "a second backward changed the input gradient", file: file, line: line)
        let accumulated = layer.namedParameters.map { $0.parameter.gradient }
        // The error model of the second backward: it adds the first gradient c into a sum of at
        // most input.count products x·∂L/∂y (a matrix product with β = 1), so it may round by
        // γₙ · (Σ|x·∂L/∂y| + |c|). Σ|x·∂L/∂y| is what the same backward gives on |x| and |∂L/∂y|
        // (exact for convolutions and linear layers, whose parameter gradients are such sums).
        layer.zeroGradients()
        _ = layer.run(input.map(abs))
        _ = layer.runBackward(outputWeights.map(abs))
        let magnitudes = layer.namedParameters.map { $0.parameter.gradient.map(abs) }
        for (((name, _), single), (sum, magnitude)) in zip(zip(layer.namedParameters, once), zip(accumulated, magnitudes)) {
            let twice = single * 2
            let tolerance = Tolerance.elementwise(count: input.count + 1, magnitudes: magnitude + single.map(abs))
            let check = Check.equal(name, "two backward calls", sum, "twice the gradient", twice, tolerance: tolerance)
            XCTAssertTrue(check.ok, "\(name): two backward calls did not give twice the gradient: |Δ| \(check.residual) > tolerance \(tolerance)",
                          file: file, line: line)
            // Forgetting to accumulate (the second call overwrites) must fail.
            if let largest = single.data.map(abs).max(), largest > 0 {
                XCTAssertFalse(Check.equal(name, "overwritten", single, "twice", twice, tolerance: tolerance).ok,
                               "\(name): the tolerance would not notice a gradient that is overwritten", file: file, line: line)
            }
        }
        layer.zeroGradients()
        for (name, parameter) in layer.namedParameters {
            XCTAssert(parameter.gradient.data.allSatisfy { $0 == 0 }, "\(name): zeroGradients() left a nonzero gradient",
                      file: file, line: line)
            XCTAssertEqual(parameter.gradient.shape, parameter.value.shape, "\(name): gradient shape", file: file, line: line)
        }
    }
}
