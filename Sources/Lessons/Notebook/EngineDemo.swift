import Foundation
import MiniNet

/// A small notebook that uses every kind of cell; a worked example for lesson writers and
/// the fixture of the notebook tests. It computes a CAM for made-up feature maps:
///
///     Mᶜ(i, j) = Σₖ wᶜₖ Aᵏ(i, j)
///     yᶜ = Σₖ wᶜₖ · (1/Z) Σᵢⱼ Aᵏ(i, j) = (1/Z) Σᵢⱼ Mᶜ(i, j)      (Z = H·W)
public enum EngineDemo {
    public static func notebook(language: String = Language.current.rawValue) throws -> Notebook {
        let text = try LessonText(lesson: "engine-demo", language: language)
        let height = 6
        let width = 6
        let features = featureMaps(height: height, width: width)           // [K, H, W]
        let channels = features.shape[0]
        let weights: [Float] = [1.5, -0.8]                                  // [K]
        let sizes = ["channels": "\(channels)", "height": "\(height)", "width": "\(width)"]

        let notebook = Notebook(lesson: "engine-demo", title: text("title"))
        notebook.prose(text("intro", sizes))

        notebook.step(text("features.title"), id: "engine-demo.features")
        notebook.prose(text("features.body"))
        notebook.tensor("A", features, caption: text("features.caption", sizes))

        notebook.step(text("weights.title"), id: "engine-demo.weights")
        notebook.prose(text("weights.body"))
        notebook.math("Mᶜ(i, j) = Σₖ wᶜₖ · Aᵏ(i, j)", latex: #"M^c(i,j) = \sum_k w^c_k \, A^k(i,j)"#)
        notebook.table(text("weights.table"), headers: ["k", "wᶜₖ"],
                       rows: weights.enumerated().map { ["\($0.offset)", String(format: "%.4f", $0.element)] })
        let cam = weightedSum(features, weights: weights)                  // [H, W]
        notebook.tensor("Mᶜ", cam, caption: text("cam.caption"))

        notebook.step(text("identity.title"), id: "engine-demo.identity")
        notebook.prose(text("identity.body", ["cells": "\(height * width)"]))
        notebook.math("yᶜ = Σₖ wᶜₖ · (1/Z) Σᵢⱼ Aᵏᵢⱼ = (1/Z) Σᵢⱼ Mᶜᵢⱼ",
                      latex: #"y^c = \sum_k w^c_k \frac{1}{Z}\sum_{i,j} A^k_{ij} = \frac{1}{Z}\sum_{i,j} M^c_{ij}"#)
        var score = 0.0
        for channel in 0..<channels {
            score += Double(weights[channel]) * features.slice(channel).mean()
        }
        // Both sides add K·Z products w_k·A^k(i, j), in two orders.
        let identityTolerance = Tolerance.pooledLogit(features, weights: weights, bias: 0)
        notebook.check(.equal(text("identity.check"), "yᶜ", score, "mean Mᶜ", cam.mean(),
                              tolerance: identityTolerance + identityTolerance))
        let cellTolerance = Tolerance.weightedSum(features, weights: weights)
        notebook.check(.equal(text("identity.loop"), "loops", camByLoops(features, weights: weights),
                              "tensors", cam, tolerance: cellTolerance + cellTolerance))
        let strongest = weights.indices.max { abs(weights[$0]) < abs(weights[$1]) } ?? 0
        notebook.check(.truth(text("identity.ranking"), "argmaxₖ |wᶜₖ| = \(strongest)", strongest == 0))

        notebook.step(text("pictures.title"), id: "engine-demo.pictures")
        notebook.prose(text("pictures.body"))
        let photo = syntheticPhoto(width: 48, height: 48)
        let normalized = normalizedPositive(cam)
        notebook.picture(text("pictures.row"), [
            .image("input", photo),
            .heatmap("CAM (jet)", normalized),
            .overlay("CAM over input", heatmap: normalized, on: photo),
            .heatmap("signed CAM", cam, map: .diverging),
        ])
        return notebook
    }

    /// Two Gaussian bumps: map 0 upper left, map 1 lower right. [2, H, W]
    static func featureMaps(height: Int, width: Int) -> Tensor {
        var maps = Tensor(zeros: [2, height, width])
        let centres = [(1.5, 1.5), (Double(height) - 2, Double(width) - 2)]
        for (channel, centre) in centres.enumerated() {
            for y in 0..<height {
                for x in 0..<width {
                    let distance2 = pow(Double(y) - centre.0, 2) + pow(Double(x) - centre.1, 2)
                    maps[channel, y, x] = Float(exp(-distance2 / 4))
                }
            }
        }
        return maps
    }

    /// Σₖ wₖ · Aᵏ with tensor operations. [K, H, W] → [H, W]
    static func weightedSum(_ features: Tensor, weights: [Float]) -> Tensor {
        var sum = Tensor(zeros: Array(features.shape.dropFirst()))
        for channel in 0..<features.shape[0] { sum += features.slice(channel) * weights[channel] }
        return sum
    }

    /// The same sum, one element at a time. [K, H, W] → [H, W]
    static func camByLoops(_ features: Tensor, weights: [Float]) -> Tensor {
        let (channels, height, width) = (features.shape[0], features.shape[1], features.shape[2])
        var cam = Tensor(zeros: [height, width])
        for y in 0..<height {
            for x in 0..<width {
                var total: Float = 0
                for channel in 0..<channels { total += weights[channel] * features[channel, y, x] }
                cam[y, x] = total
            }
        }
        return cam
    }

    /// ReLU, then divided by the maximum: the 0…1 map that jet expects.
    static func normalizedPositive(_ map: Tensor) -> Tensor {
        let positive = map.map { Swift.max($0, 0) }
        let largest = positive.max
        return largest > 0 ? positive.map { $0 / largest } : positive
    }

    /// A made-up picture: sky, grass and a red ball in the upper left.
    static func syntheticPhoto(width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let fy = Double(y) / Double(height)
                var rgb: (Double, Double, Double) = fy < 0.6
                    ? (110 + 80 * fy, 160 + 60 * fy, 235)
                    : (60, 150 - 40 * (fy - 0.6), 60)
                let dx = Double(x) - Double(width) * 0.3
                let dy = Double(y) - Double(height) * 0.3
                let radius = Double(width) * 0.18
                if dx * dx + dy * dy < radius * radius {
                    let shade = 1 - 0.4 * (dx + dy) / (2 * radius)
                    rgb = (Swift.min(255, 220 * shade), 40 * shade, 40 * shade)
                }
                let index = (y * width + x) * 3
                pixels[index] = UInt8(rgb.0)
                pixels[index + 1] = UInt8(rgb.1)
                pixels[index + 2] = UInt8(rgb.2)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
