import CKernels
import Foundation

/// The Gaussian noise ROAD adds to every imputed value: σ · ε with ε ~ N(0, 1). Rong et al. and
/// both reference libraries (pytorch-grad-cam's NoisyLinearImputer, Quantus's
/// noisy_linear_imputation) use σ = 0.01 in the normalised input's units.
///
/// ε of one imputation comes from `SeededGenerator(seed: seed, stream: stream)`, drawn in pairs
/// (Box–Muller, as `SmoothGradNoise` draws), filling ε[c, j] in the order of channel c, then
/// imputed pixel j (ascending pixel index): the same numbers on every machine and for any batch
/// size. tools/parity/make_faithfulness_parity.py draws the same numbers in Python and hands them
/// to pytorch-grad-cam in place of torch.randn_like.
public struct ImputationNoise: Sendable, Equatable {
    /// σ, in the normalised input's units; 0 imputes without noise.
    public var standardDeviation: Float
    public var seed: UInt64

    public init(standardDeviation: Float = 0.01, seed: UInt64 = 0) {
        self.standardDeviation = standardDeviation
        self.seed = seed
    }

    /// No noise: the plain linear imputation.
    public static let none = ImputationNoise(standardDeviation: 0)

    /// ε: `count` standard normal values of stream `stream`.
    public func standardNormals(stream: UInt64, count: Int) -> [Float] {
        Self.normals(seed: seed, stream: stream, count: count)
    }

    static func normals(seed: UInt64, stream: UInt64, count: Int) -> [Float] {
        var generator = SeededGenerator(seed: seed, stream: stream)
        return generator.standardNormals(count: count)
    }
}

/// The noisy linear imputation of ROAD (Rong et al. 2022; the code pytorch-grad-cam and Quantus
/// both copied from github.com/tleemann/road_evaluation): every removed pixel becomes the weighted
/// mean of its eight neighbours, removed or not, so the removed pixels' values solve one sparse
/// linear system per channel:
///
///     s_i · u_i − Σ_{j removed} w_ij · u_j = Σ_{j kept} w_ij · x_j,     s_i = Σ_{j in the picture} w_ij
///
/// with w = 1/6 for the four edge neighbours and 1/12 for the four corner ones (they add up to 1;
/// a pixel on the border has fewer, and s_i < 1). Then u_i + σ·ε_i replaces x_i.
///
/// The matrix A is the same for every channel, symmetric, and positive definite whenever some
/// pixel is kept (every connected group of removed pixels touches a kept one, so the system is
/// irreducibly diagonally dominant). MiniNet factorises it once, A = L Lᵀ (Cholesky, in Double,
/// in a fixed order: deterministic), and solves each channel by two triangular solves; the
/// libraries call scipy's sparse LU (spsolve) per picture. With the unknowns in pixel order,
/// every row of A reaches back at most W + 1 unknowns, and L fills in only inside that envelope
/// (the "skyline"). When every pixel is removed, b = 0 and every constant picture solves the
/// system; MiniNet returns the smallest, 0 (the data set's mean colour), as scipy does for b = 0.
public enum NoisyLinearImputation {
    /// (row offset, column offset, weight) of the eight neighbours, in the libraries' order.
    public static let neighbourWeights: [(dy: Int, dx: Int, weight: Double)] = [
        (1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (-1, 1, 1.0 / 12), (1, -1, 1.0 / 12),
        (0, -1, 1.0 / 6), (-1, -1, 1.0 / 12), (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6),
    ]

    /// One imputed picture.
    public struct Result: Sendable {
        /// [C, H, W]: the input with every removed pixel replaced by u_i + σ·ε_i.
        public var image: Tensor
        /// The removed pixels, ascending (row-major indices): the unknowns' order.
        public var removedPixels: [Int]
        /// Every imputed value (before the noise) is the weighted mean of its neighbours, per channel.
        public var checks: [Check]
    }

    /// Imputes the pixels `removed` [H·W] (true = removed) of an image [C, H, W]; the noise of
    /// stream `stream` is added to every imputed value.
    public static func impute(_ image: Tensor, removed: [Bool], noise: ImputationNoise = .none, stream: UInt64 = 0) throws -> Result {
        precondition(image.rank == 3, "impute expects [C, H, W], got \(image.shape)")
        let (channels, height, width) = (image.shape[0], image.shape[1], image.shape[2])
        guard removed.count == height * width else {
            throw MiniNetError.invalidArgument("the mask of removed pixels has \(removed.count) values for \(height)×\(width) pixels")
        }
        let system = System(removed: removed, height: height, width: width)
        let count = system.removed.count
        let factor = count < removed.count ? SkylineCholesky(system) : nil
        let normals = noise.standardDeviation == 0 ? [] : noise.standardNormals(stream: stream, count: channels * count)
        var output = image
        var checks: [Check] = []
        let planeSize = height * width
        let rightHandSides = (0..<channels).map { c in system.rightHandSide(image.data[(c * planeSize)..<((c + 1) * planeSize)]) }
        let solutions: [[Double]]
        if let factor, channels == 3 {
            let (u0, u1, u2) = factor.solve(rightHandSides[0], rightHandSides[1], rightHandSides[2])
            solutions = [u0, u1, u2]
        } else {
            solutions = rightHandSides.map { factor?.solve($0) ?? [Double](repeating: 0, count: count) }
        }
        for c in 0..<channels {
            let plane = image.data[(c * planeSize)..<((c + 1) * planeSize)]
            let (b, u) = (rightHandSides[c], solutions[c])
            var solved = Array(plane)
            for (unknown, pixel) in system.removed.enumerated() { solved[pixel] = Float(u[unknown]) }
            checks.append(meanOfNeighboursCheck(system, solved: solved, solverResidual: system.residual(u, b), channel: c))
            for (unknown, pixel) in system.removed.enumerated() {
                // float32, as torch adds noise · randn to the float32 solution.
                let epsilon = normals.isEmpty ? 0 : noise.standardDeviation * normals[c * count + unknown]
                output.data[c * planeSize + pixel] = solved[pixel] + epsilon
            }
        }
        return Result(image: output, removedPixels: system.removed, checks: checks)
    }

    /// The system of one mask [H, W] (true = removed): for unknown i, s_i and its removed
    /// neighbours' unknowns (−1 where a neighbour is kept or outside).
    struct System {
        var height: Int, width: Int
        var removed: [Int]
        var unknownOfPixel: [Int]
        var diagonal: [Double]
        var neighbours: [Int]

        init(removed mask: [Bool], height: Int, width: Int) {
            self.height = height
            self.width = width
            removed = mask.indices.filter { mask[$0] }
            unknownOfPixel = [Int](repeating: -1, count: mask.count)
            for (unknown, pixel) in removed.enumerated() { unknownOfPixel[pixel] = unknown }
            diagonal = [Double](repeating: 0, count: removed.count)
            neighbours = [Int](repeating: -1, count: removed.count * 8)
            for (unknown, pixel) in removed.enumerated() {
                for (slot, offset) in NoisyLinearImputation.neighbourWeights.enumerated() {
                    guard let neighbour = neighbour(of: pixel, offset.dy, offset.dx) else { continue }
                    diagonal[unknown] += offset.weight
                    neighbours[unknown * 8 + slot] = unknownOfPixel[neighbour]
                }
            }
        }

        /// The pixel at (row + dy, column + dx), or nil outside the picture.
        func neighbour(of pixel: Int, _ dy: Int, _ dx: Int) -> Int? {
            let (row, column) = (pixel / width + dy, pixel % width + dx)
            return row >= 0 && row < height && column >= 0 && column < width ? row * width + column : nil
        }

        /// b_i = Σ_{j kept} w_ij · x_j for one channel's plane [H·W].
        func rightHandSide(_ plane: ArraySlice<Float>) -> [Double] {
            let base = plane.startIndex
            return removed.indices.map { unknown in
                var total = 0.0
                for (slot, offset) in NoisyLinearImputation.neighbourWeights.enumerated() where neighbours[unknown * 8 + slot] < 0 {
                    if let j = neighbour(of: removed[unknown], offset.dy, offset.dx) { total += offset.weight * Double(plane[base + j]) }
                }
                return total
            }
        }

        /// max_i |(A u)_i − b_i|, with (A u)_i = s_i · u_i − Σ_{j removed} w_ij · u_j.
        func residual(_ u: [Double], _ b: [Double]) -> Double {
            var worst = 0.0
            for i in u.indices {
                var total = diagonal[i] * u[i]
                for slot in 0..<8 where neighbours[i * 8 + slot] >= 0 {
                    total -= NoisyLinearImputation.neighbourWeights[slot].weight * u[neighbours[i * 8 + slot]]
                }
                worst = Swift.max(worst, Swift.abs(total - b[i]))
            }
            return worst
        }
    }

    /// A = L Lᵀ for the system's matrix, in Double:
    ///
    ///     L_ij = (A_ij − Σ_{k<j} L_ik · L_jk) / L_jj,    L_ii = √(A_ii − Σ_{k<i} L_ik²)
    ///
    /// Row i of A is zero left of its first nonzero, first_i, and so is row i of L (Cholesky fills
    /// in only inside that envelope, the "skyline"). The rows are taken in blocks of four, and
    /// every row of a block is stored from the same column `start`: the block's smallest first_i,
    /// rounded down to a multiple of four. The extra entries are zeros of A and stay exact zeros
    /// of L (each is 0 minus a sum of products with L_ik = 0). With rows and columns in blocks
    /// of four, the sums Σ_k L_ik L_jk of four rows i against four rows j share one range of k,
    /// and are taken sixteen at a time; the few terms inside the block of j, which the same step
    /// computes, are subtracted after it, one by one.
    struct SkylineCholesky {
        static let blockRows = 4
        /// Per row: the first column stored (the same for the four rows of a block).
        var start: [Int]
        /// L_ik = values[rowOffset[i] + k], for start[i] ≤ k ≤ i.
        var rowOffset: [Int]
        var values: [Double]

        init(_ system: System) {
            let n = system.removed.count
            let blockRows = Self.blockRows
            let first = (0..<n).map { i in
                (0..<8).reduce(i) { smallest, slot in
                    let neighbour = system.neighbours[i * 8 + slot]
                    return neighbour >= 0 ? Swift.min(smallest, neighbour) : smallest
                }
            }
            start = [Int](repeating: 0, count: n)
            for block in stride(from: 0, to: n, by: blockRows) {
                let rows = block..<Swift.min(block + blockRows, n)
                let blockStart = (first[rows].min() ?? block) / blockRows * blockRows
                for i in rows { start[i] = blockStart }
            }
            rowOffset = [Int](repeating: 0, count: n)
            var stored = 0
            for i in 0..<n {
                rowOffset[i] = stored - start[i]
                stored += i - start[i] + 1
            }
            values = [Double](repeating: 0, count: stored)
            for i in 0..<n {
                values[rowOffset[i] + i] = system.diagonal[i]
                for slot in 0..<8 where system.neighbours[i * 8 + slot] >= 0 && system.neighbours[i * 8 + slot] < i {
                    values[rowOffset[i] + system.neighbours[i * 8 + slot]] = -NoisyLinearImputation.neighbourWeights[slot].weight
                }
            }
            factorise()
        }

        /// start − Σ_{k<count} a[k]·b[k], the sum taken in sixteen lanes: four sums of four lanes,
        /// sum q taking k ≡ 4q … 4q + 3 (mod 16) while 16 terms are left, then sum 0 taking the
        /// next blocks of 4; the sums added as (0 + 1) + (2 + 3), their lanes as (lane 0 +
        /// lane 1) + (lane 2 + lane 3), the result subtracted from `start`, then the last k
        /// subtracted one by one. A fixed order, so every processor gets the same bits; four
        /// independent sums keep the processor's adders busy instead of waiting on one chain.
        /// The loop is C (`tutor_subtracting_dot`, Sources/CKernels/product_kernels.c), at the
        /// vector width in use: 16 lanes are two AVX-512 registers, where Swift's SIMD4<Double>
        /// gets SSE2's two lanes at a time.
        static func subtractingDot(from start: Double, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
            var total = 0.0
            tutor_subtracting_dot(start, a, b, count, &total)
            return total
        }

        /// L Lᵀ = A, four rows at a time. For a block of rows I and each block of columns J left of
        /// it and inside its envelope, then J = I:
        ///
        ///     common_ij = Σ_{k < j₀} L_ik L_jk                    (k from both blocks' start)
        ///     L_ij = (A_ij − common_ij − Σ_{j₀ ≤ k < j} L_ik L_jk) / L_jj,   j = j₀, j₀ + 1, … in turn
        ///
        /// and on the diagonal L_ii = √(A_ii − common_ii − Σ_{i₀ ≤ k < i} L_ik²). A pair of blocks
        /// is one call of `tutor_skyline_cholesky_block` (product_kernels.c), which takes the
        /// sixteen sums common_ij together, each in one fixed order whatever the vector width.
        mutating func factorise() {
            let n = start.count
            let blockRows = Self.blockRows
            let (start, rowOffset) = (self.start, self.rowOffset)
            values.withUnsafeMutableBufferPointer { l in
                let base = l.baseAddress!
                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Double>?.self, capacity: blockRows) { rowsOfI in
                    withUnsafeTemporaryAllocation(of: UnsafePointer<Double>?.self, capacity: blockRows) { rowsOfJ in
                        for i0 in stride(from: 0, to: n, by: blockRows) {
                            let rows = Swift.min(blockRows, n - i0)
                            for j0 in stride(from: start[i0], through: i0, by: blockRows) {
                                let columns = j0 == i0 ? rows : blockRows
                                let k0 = Swift.max(start[i0], start[j0])
                                for slot in 0..<blockRows {
                                    rowsOfI[slot] = slot < rows ? base + rowOffset[i0 + slot] + k0 : nil
                                    rowsOfJ[slot] = slot < columns ? UnsafePointer(base + rowOffset[j0 + slot] + k0) : nil
                                }
                                tutor_skyline_cholesky_block(rowsOfI.baseAddress!, rowsOfJ.baseAddress!, j0 - k0, rows, columns,
                                                             j0 == i0 ? 1 : 0)
                            }
                        }
                    }
                }
            }
        }

        /// u = A⁻¹ b: L y = b forward (each Σ_k by `subtractingDot`), then Lᵀ u = y backward
        /// (column by column).
        func solve(_ b: [Double]) -> [Double] {
            var y = b
            values.withUnsafeBufferPointer { l in
                y.withUnsafeMutableBufferPointer { y in
                    for i in start.indices {
                        let rowI = rowOffset[i]
                        let total = Self.subtractingDot(from: y[i], l.baseAddress! + rowI + start[i], UnsafePointer(y.baseAddress! + start[i]),
                                                        count: i - start[i])
                        y[i] = total / l[rowI + i]
                    }
                    for i in start.indices.reversed() {
                        let rowI = rowOffset[i]
                        y[i] /= l[rowI + i]
                        let yi = y[i]
                        for k in start[i]..<i { y[k] -= l[rowI + k] * yi }
                    }
                }
            }
            return y
        }

        /// `solve` of three right-hand sides at once (a picture's three colour channels): each
        /// row of L is read once for the three, and every operation on each channel is the one
        /// `solve` makes (`tutor_subtracting_dots3`), so each result has the same bits.
        func solve(_ b0: [Double], _ b1: [Double], _ b2: [Double]) -> ([Double], [Double], [Double]) {
            var (y0, y1, y2) = (b0, b1, b2)
            values.withUnsafeBufferPointer { l in
                y0.withUnsafeMutableBufferPointer { y0 in
                    y1.withUnsafeMutableBufferPointer { y1 in
                        y2.withUnsafeMutableBufferPointer { y2 in
                            let (p0, p1, p2) = (y0.baseAddress!, y1.baseAddress!, y2.baseAddress!)
                            var starts = [0.0, 0.0, 0.0], totals = [0.0, 0.0, 0.0]
                            for i in start.indices {
                                let rowI = rowOffset[i]
                                (starts[0], starts[1], starts[2]) = (y0[i], y1[i], y2[i])
                                tutor_subtracting_dots3(starts, l.baseAddress! + rowI + start[i], p0 + start[i], p1 + start[i],
                                                        p2 + start[i], i - start[i], &totals)
                                let diagonal = l[rowI + i]
                                (y0[i], y1[i], y2[i]) = (totals[0] / diagonal, totals[1] / diagonal, totals[2] / diagonal)
                            }
                            for i in start.indices.reversed() {
                                let rowI = rowOffset[i]
                                let diagonal = l[rowI + i]
                                y0[i] /= diagonal
                                y1[i] /= diagonal
                                y2[i] /= diagonal
                                // y_c[k] −= L_ik · y_c[i] for start[i] ≤ k < i, as `solve` does it (product_kernels.h).
                                (starts[0], starts[1], starts[2]) = (y0[i], y1[i], y2[i])
                                tutor_subtract_scaled3(l.baseAddress! + rowI + start[i], starts, p0 + start[i], p1 + start[i], p2 + start[i],
                                                       i - start[i])
                            }
                        }
                    }
                }
            }
            return (y0, y1, y2)
        }
    }

    /// The imputed values, once rounded to float32, still satisfy each equation:
    ///
    ///     max_i |s_i · u_i − Σ_j w_ij · v_j|  ≤  4·γ₉·max_i Σ|terms_i| + max_i |(A u − b)_i|
    ///
    /// (v_j the neighbours' values, kept or imputed): the first part for rounding every value to
    /// float32 (nine terms per equation), the second the Double solution's own residual, measured.
    /// Shown at the worst pixel: left s_i·u_i, right the weighted sum of its neighbours.
    static func meanOfNeighboursCheck(_ system: System, solved: [Float], solverResidual: Double, channel: Int) -> Check {
        var worst = (residual: -1.0, left: 0.0, right: 0.0)
        var magnitude = 0.0
        for (unknown, pixel) in system.removed.enumerated() {
            let left = system.diagonal[unknown] * Double(solved[pixel])
            var right = 0.0, terms = Swift.abs(left)
            for offset in neighbourWeights {
                guard let j = system.neighbour(of: pixel, offset.dy, offset.dx) else { continue }
                right += offset.weight * Double(solved[j])
                terms += Swift.abs(offset.weight * Double(solved[j]))
            }
            magnitude = Swift.max(magnitude, terms)
            if Swift.abs(left - right) > worst.residual { worst = (Swift.abs(left - right), left, right) }
        }
        let tolerance = Tolerance.sum(count: 9, magnitude: magnitude)
            + .absolute(solverResidual, because: "the Double solution's residual")
        return Check.equal("every imputed pixel is the weighted mean of its neighbours (channel \(channel))",
                           "s_i·u_i", worst.left, "Σ_j w_ij·v_j", worst.right, tolerance: tolerance)
    }
}
