import Foundation

/// The eigenvalues and eigenvectors of a real symmetric matrix S [n × n] (row-major, Double), by
/// the cyclic Jacobi method (Golub & Van Loan, *Matrix Computations*, §8.5): each rotation
/// J(p, q, θ) in the (p, q) plane sets S_pq to 0; sweeping over every pair until the off-diagonal
/// part vanishes leaves Λ = Vᵀ S V diagonal, with V the product of the rotations. Every eigenvalue
/// comes out with an error of a few units of Double's roundoff times ‖S‖, also when two are close
/// (the eigenvectors of close eigenvalues are then ill-determined, as in any method).
///
/// Returns the eigenvalues in decreasing order and, for each, its unit eigenvector.
public func symmetricEigendecomposition(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [[Double]]) {
    precondition(matrix.count == n * n, "\(matrix.count) entries for a \(n)×\(n) matrix")
    var s = matrix                                                       // becomes Λ
    var v = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 }            // becomes V
    let scale = s.reduce(0) { $0 + $1 * $1 }                              // ‖S‖²_F
    for _ in 0..<64 {
        var offDiagonal = 0.0
        for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { offDiagonal += s[p * n + q] * s[p * n + q] } }
        if offDiagonal <= 1e-32 * scale { break }
        for p in 0..<n {
            for q in (p + 1)..<max(p + 1, n) where s[p * n + q] != 0 {
                // tan θ = t, the smaller root of t² + 2τt − 1 = 0, τ = (S_qq − S_pp)/(2 S_pq)
                let tau = (s[q * n + q] - s[p * n + p]) / (2 * s[p * n + q])
                let t = (tau >= 0 ? 1.0 : -1.0) / (abs(tau) + (1 + tau * tau).squareRoot())
                let c = 1 / (1 + t * t).squareRoot(), sine = t * c
                for k in 0..<n {                                          // S ← S J (columns p, q)
                    let (kp, kq) = (s[k * n + p], s[k * n + q])
                    s[k * n + p] = c * kp - sine * kq
                    s[k * n + q] = sine * kp + c * kq
                }
                for k in 0..<n {                                          // S ← Jᵀ S (rows p, q)
                    let (pk, qk) = (s[p * n + k], s[q * n + k])
                    s[p * n + k] = c * pk - sine * qk
                    s[q * n + k] = sine * pk + c * qk
                }
                for k in 0..<n {                                          // V ← V J
                    let (kp, kq) = (v[k * n + p], v[k * n + q])
                    v[k * n + p] = c * kp - sine * kq
                    v[k * n + q] = sine * kp + c * kq
                }
            }
        }
    }
    let order = (0..<n).sorted { s[$0 * n + $0] > s[$1 * n + $1] }
    return (order.map { s[$0 * n + $0] }, order.map { column in (0..<n).map { v[$0 * n + column] } })
}
