import Foundation
import XCTest
@testable import MiniNet

/// The identities that tie the CAM variants to each other, on the small CNN and the narrow
/// ResNets, each within a tolerance from the error model (docs/numerics.md), and the parts of the
/// shared pipeline the variants rely on.
final class CAMMethodsTests: XCTestCase {
    /// (classifier, input, the layer that feeds global average pooling, an earlier layer)
    private func models() throws -> [(name: String, classifier: ImageClassifier, input: Tensor, last: String, earlier: String)] {
        let (small, picture) = try CAMMethodsParityTests.smallCNN()
        var models = [(name: "mininet", classifier: small, input: picture, last: "features.10", earlier: "features.6")]
        for variant in [ResNetVariant.resnet18, .resnet50] {
            let (classifier, input) = try CAMMethodsParityTests.narrowResNet(variant)
            models.append((variant.rawValue, classifier, input, "layer4.\(variant.blocks[3] - 1)", "layer3.\(variant.blocks[2] - 1)"))
        }
        return models
    }

    private func head(_ classifier: ImageClassifier) throws -> Linear {
        try XCTUnwrap(classifier.network.allLayers.last(where: { $0 is Linear }) as? Linear)
    }

    func testIDsAreTheCommandLineIDs() throws {
        let (classifier, _) = try CAMMethodsParityTests.smallCNN()
        let ids = try CAMMethodsParityTests.methodIDs.map { try CAMMethodsParityTests.method($0, classifier: classifier).id }
        XCTAssertEqual(ids, CAMMethodsParityTests.methodIDs)
        XCTAssertEqual([CAM(classifier: classifier).id, GradCAM(classifier: classifier).id, AblationCAM(classifier: classifier).id],
                       ["cam", "gradcam", "ablationcam"])
    }

    /// HiResCAM = Grad-CAM at the layer that feeds global average pooling and a linear layer.
    ///
    /// Proof. There y^c = Σ_k w_{ck} · (1/Z) Σ_{i,j} A^k_{ij} + b_c, so ∂y^c/∂A^k_{ij} = w_{ck}/Z
    /// at every cell (i, j). Grad-CAM's weight is the mean of that constant, α^c_k = w_{ck}/Z, so
    ///
    ///     HiResCAM_{ij} = Σ_k (∂y^c/∂A^k_{ij}) · A^k_{ij} = Σ_k (w_{ck}/Z) · A^k_{ij} = Σ_k α^c_k · A^k_{ij} = Grad-CAM_{ij}
    ///
    /// before the ReLU, hence after it too. ∎ Both sides are float32 roundings of the same K-term
    /// sums Σ_k α_k A^k_{ij}, so each carries `Tolerance.weightedSum`. At an earlier layer the
    /// gradient varies over the plane and the maps differ by far more.
    func testHiResCAMEqualsGradCAMAtTheLayerThatFeedsPooling() throws {
        for model in try models() {
            for c in 0..<model.classifier.classNames.count {
                let hires = try HiResCAM(classifier: model.classifier).explain(input: model.input, layer: model.last, target: .logit(c))
                let grad = try GradCAM(classifier: model.classifier).explain(input: model.input, layer: model.last, target: .logit(c))
                let side = Tolerance.weightedSum(grad.activations, weights: grad.weights)
                assertWithin(hires.weightedSum, grad.weightedSum, side + side, "\(model.name) class \(c): HiResCAM = Grad-CAM")
                XCTAssertLessThan((side + side).value, side.largestTerm, "\(model.name): a channel left out must show")
                // The premise: the gradient is w_ck/Z at every cell, and HiResCAM's channel summary is α.
                let weights = try head(model.classifier).weight.value.slice(c).data
                let cells = Float(grad.map.count)
                for k in weights.indices {
                    let plane = try XCTUnwrap(hires.elementWeights).slice(k).data
                    XCTAssert(plane.allSatisfy { $0 == plane[0] }, "\(model.name) channel \(k): gradient not constant")
                    XCTAssertEqual(plane[0], weights[k] / cells, accuracy: abs(weights[k] / cells) * 1e-6)
                }
                XCTAssertEqual(hires.weights, grad.weights)
            }
            let hires = try HiResCAM(classifier: model.classifier).explain(input: model.input, layer: model.earlier, target: .logit(0))
            let grad = try GradCAM(classifier: model.classifier).explain(input: model.input, layer: model.earlier, target: .logit(0))
            let side = Tolerance.weightedSum(grad.activations, weights: grad.weights)
            XCTAssertGreaterThan(Double(hires.weightedSum.maxAbsDifference(grad.weightedSum)), 100 * (side + side).value,
                                 "\(model.name) \(model.earlier): HiResCAM and Grad-CAM should differ before the last layer")
        }
    }

    /// At the layer that feeds pooling, ∂y^c/∂A^k = g_k = w_{ck}/Z on the whole plane, so
    /// Grad-CAM++'s a = g²/(2g² + S_k g³ + ε) with S_k = Σ A^k = Z F_k, and
    ///
    ///     w^c_k = Z · a · ReLU(g_k) = Z · ReLU(g_k) · g_k² / (2 g_k² + S_k g_k³ + ε)
    ///           = ReLU(w_{ck}) / (2 + w_{ck} F_k)                    when ε = 0
    ///
    /// CAM's positive weights divided by 2 + w_{ck}F_k. Each side is computed in Double from the same
    /// float32 numbers and rounded once to float32; the sum S_k of Z terms is the only long sum, so
    /// the tolerance is that of a Z-term sum of the weight's size on each side.
    func testGradCAMPlusPlusWeightsAtTheLayerThatFeedsPooling() throws {
        for model in try models() {
            let weights = try head(model.classifier).weight.value
            for c in 0..<model.classifier.classNames.count {
                for stabilizer in [0, 1e-6] {
                    let method = GradCAMPlusPlus(classifier: model.classifier)
                    method.stabilizer = stabilizer
                    let result = try method.explain(input: model.input, layer: model.last, target: .logit(c))
                    let cells = result.map.count
                    let expected: [Float] = (0..<result.weights.count).map { k in
                        let w = Double(weights.slice(c).data[k])
                        let pooled = result.activations.slice(k).mean()                        // F_k
                        if stabilizer == 0 { return Float(max(w, 0) / (2 + w * pooled)) }
                        let g = Double(Float(w) / Float(cells))                                // the float32 gradient
                        let z = Double(cells)
                        return Float(g > 0 ? z * g * g * g / (2 * g * g + z * pooled * g * g * g + stabilizer) : 0)
                    }
                    let side = Tolerance.sum(count: cells, magnitude: Double(expected.map(abs).max() ?? 0))
                    assertWithin(result.weights, expected, side + side, "\(model.name) class \(c) ε = \(stabilizer): Grad-CAM++ weights")
                }
            }
        }
    }

    /// XGrad-CAM's weights are Grad-CAM's where the gradient is constant over the plane:
    /// Σ_{ij} (A_{ij}/(S + ε)) · g = g · S/(S + ε), S = Σ A^k. Both are Double sums of Z terms
    /// rounded once to float32.
    func testXGradCAMWeightsAreGradCAMsAtTheLayerThatFeedsPooling() throws {
        for model in try models() {
            for c in 0..<model.classifier.classNames.count {
                let xgrad = try XGradCAM(classifier: model.classifier).explain(input: model.input, layer: model.last, target: .logit(c))
                let grad = try GradCAM(classifier: model.classifier).explain(input: model.input, layer: model.last, target: .logit(c))
                let expected: [Float] = grad.weights.indices.map { k in
                    let sum = xgrad.activations.slice(k).sum()
                    return Float(Double(grad.weights[k]) * sum / (sum + 1e-7))
                }
                let side = Tolerance.sum(count: grad.map.count, magnitude: Double(grad.weights.map(abs).max() ?? 0))
                assertWithin(xgrad.weights, expected, side + side, "\(model.name) class \(c): XGrad-CAM weights")
            }
        }
    }

    /// Where A ≥ 0 (the output of a ReLU), ReLU(g · a) = ReLU(g) · a, so element-wise Grad-CAM and
    /// LayerCAM add the same products in the same order: bit for bit equal, at any such layer.
    /// At the layer that feeds pooling, LayerCAM is Grad-CAM with the negative weights set to 0.
    func testElementWiseGradCAMEqualsLayerCAMAfterAReLU() throws {
        for model in try models() {
            for layer in [model.last, model.earlier] {
                let elementwise = try GradCAMElementWise(classifier: model.classifier).explain(input: model.input, layer: layer, target: .logit(1))
                XCTAssertGreaterThanOrEqual(elementwise.activations.min, 0, "\(model.name) \(layer) is the output of a ReLU")
                let layerCAM = try LayerCAM(classifier: model.classifier).explain(input: model.input, layer: layer, target: .logit(1))
                assertWithin(elementwise.weightedSum, layerCAM.weightedSum, .exact, "\(model.name) \(layer): element-wise = LayerCAM")
            }
            let layerCAM = try LayerCAM(classifier: model.classifier).explain(input: model.input, layer: model.last, target: .logit(1))
            let grad = try GradCAM(classifier: model.classifier).explain(input: model.input, layer: model.last, target: .logit(1))
            let positive = grad.weights.map { max($0, 0) }
            let expected = weightedChannelSum(grad.activations, weights: positive)
            let side = Tolerance.weightedSum(grad.activations, weights: positive)
            assertWithin(layerCAM.weightedSum, expected, side + side, "\(model.name): LayerCAM = Grad-CAM with ReLU(α)")
        }
    }

    /// Score-CAM's weights are a softmax (positive, adding up to 1, each a Double ratio rounded
    /// once to float32), its masks lie in 0…1, and a mask of the layer's map upsampled with
    /// align_corners = True keeps the four corner values exactly.
    func testScoreCAMWeightsAndMasks() throws {
        for model in try models() {
            let method = ScoreCAM(classifier: model.classifier)
            let result = try method.explain(input: model.input, layer: model.last, target: .logit(0))
            XCTAssert(result.weights.allSatisfy { $0 > 0 }, model.name)
            assertWithin(result.weights.reduce(0.0) { $0 + Double($1) }, 1, .sum(count: result.weights.count, magnitude: 1),
                         "\(model.name): Σ_k softmax_k = 1")
            let masks = method.masks(activations: result.activations, height: model.input.shape[1], width: model.input.shape[2])
            XCTAssert(masks.data.allSatisfy { $0 >= 0 && $0 <= 1 }, model.name)
            // Batches of any size give the same scores: each masked input is its own forward pass.
            method.batchSize = 3
            let again = try method.explain(input: model.input, layer: model.last, target: .logit(0))
            // Each score is within δ = forwardTolerance of the exact one; a softmax weight moves by
            // w_k · (δs_k − Σ_j w_j δs_j) ≤ 2 · (2δ) for two runs.
            assertWithin(again.weights, result.weights, model.classifier.forwardTolerance(input: model.input).scaled(by: 4),
                         "\(model.name): batch size 3 against 16")
        }
        let plane = Tensor(shape: [1, 2, 3], data: [1, 2, 3, 4, 5, 6])
        let resized = resizeBilinearAlignCorners(plane, height: 5, width: 7)
        XCTAssertEqual([resized[0, 0, 0], resized[0, 0, 6], resized[0, 4, 0], resized[0, 4, 6]], [1, 3, 4, 6])
        XCTAssertEqual(resized[0, 2, 3], 3.5, accuracy: 1e-6, "the centre is the mean of the four corners")
        XCTAssertEqual(resizeBilinearAlignCorners(plane, height: 2, width: 3), plane)
    }

    /// Eigen-CAM's weights are the unit principal direction v of the centred activations: an
    /// eigenvector of X̄ᵀX̄ for its largest eigenvalue σ₁², the projection adds up to 0, its value of
    /// largest magnitude is positive (the sign rule), and the class plays no part.
    func testEigenCAMIsTheFirstPrincipalComponent() throws {
        for model in try models() {
            for layer in [model.last, model.earlier] {
                let result = try EigenCAM(classifier: model.classifier).explain(input: model.input, layer: layer, target: .logit(0))
                let (channels, cells) = (result.activations.shape[0], result.map.count)
                let v = result.weights.map(Double.init)
                assertWithin(v.reduce(0) { $0 + $1 * $1 }, 1, .sum(count: channels, magnitude: 1), "\(model.name) \(layer): ‖v‖ = 1")
                // X̄ᵀX̄ v = σ₁² v, with σ₁² = ‖X̄ v‖²
                let a = result.activations.data.map(Double.init)
                let means = (0..<channels).map { k in a[(k * cells)..<((k + 1) * cells)].reduce(0, +) / Double(cells) }
                let projection = (0..<cells).map { i in (0..<channels).reduce(0.0) { $0 + v[$1] * (a[$1 * cells + i] - means[$1]) } }
                let variance = projection.reduce(0) { $0 + $1 * $1 }
                let back = (0..<channels).map { k in (0..<cells).reduce(0.0) { $0 + (a[k * cells + $1] - means[k]) * projection[$1] } }
                // v is float32: each component is off by u·|v_k|, which X̄ᵀX̄ carries to σ₁²·u.
                let side = Tolerance.sum(count: channels * cells, magnitude: variance)
                assertWithin(zip(back, v).map { Float($0 - variance * $1) }, [Float](repeating: 0, count: channels), side,
                             "\(model.name) \(layer): X̄ᵀX̄ v = σ₁² v")
                let total = Tolerance.weightedSum(result.activations, weights: result.weights).scaled(by: Double(cells))
                assertWithin(result.weightedSum.sum(), 0, total, "\(model.name) \(layer): Σ projection = 0")
                XCTAssertGreaterThanOrEqual(result.weightedSum.max, -result.weightedSum.min, "\(model.name) \(layer): sign rule")
                let other = try EigenCAM(classifier: model.classifier).explain(input: model.input, layer: layer, target: .logit(1))
                XCTAssertEqual(other.map, result.map, "\(model.name) \(layer): no class")
            }
        }
    }

    func testSymmetricEigendecomposition() {
        // S = Q diag(5, 2, −1) Qᵀ for a rotation Q
        let (c, s): (Double, Double) = (cos(0.3), sin(0.3))
        let q: [[Double]] = [[c, -s, 0], [s * 0.6, c * 0.6, -0.8], [s * 0.8, c * 0.8, 0.6]]
        let lambdas: [Double] = [5, 2, -1]
        var matrix = [Double](repeating: 0, count: 9)
        for row in 0..<3 {
            for column in 0..<3 {
                for k in 0..<3 { matrix[row * 3 + column] += q[row][k] * lambdas[k] * q[column][k] }
            }
        }
        let (values, vectors) = symmetricEigendecomposition(matrix, size: 3)
        for (value, expected) in zip(values, lambdas) { XCTAssertEqual(value, expected, accuracy: 1e-12) }
        for (vector, value) in zip(vectors, values) {
            for row in 0..<3 {
                let product = (0..<3).reduce(0.0) { $0 + matrix[row * 3 + $1] * vector[$1] }
                XCTAssertEqual(product, value * vector[row], accuracy: 1e-12)
            }
        }
    }

    /// The element-weighting variants report CAMResult.weights as the spatial mean of W, and the
    /// channel-weighting ones leave `elementWeights` nil; Eigen-CAM's offset is −Σ_k v_k μ_k.
    func testResultFieldsAreMeaningfulForEveryVariant() throws {
        let (classifier, input) = try CAMMethodsParityTests.smallCNN()
        for id in CAMMethodsParityTests.methodIDs {
            let result = try CAMMethodsParityTests.method(id, classifier: classifier).explain(input: input, layer: "features.6", target: .logit(2))
            XCTAssertEqual(result.weights.count, result.activations.shape[0], id)
            XCTAssertEqual(result.map, result.weightedSum.map { max($0, 0) }, id)
            if let elements = result.elementWeights {
                XCTAssertEqual(elements.shape, result.activations.shape, id)
                XCTAssertEqual(result.weights, spatialMeans(elements), id)
                XCTAssertEqual(result.weightedSum, elementWeightedSum(result.activations, weights: elements), id)
            } else {
                XCTAssertEqual(result.weightedSum, weightedChannelSum(result.activations, weights: result.weights).map { $0 + result.offset }, id)
                if id != "eigencam" { XCTAssertEqual(result.offset, 0, id) }
            }
        }
    }
}
