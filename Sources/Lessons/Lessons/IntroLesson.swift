import Foundation
import MiniNet

/// Lesson "intro": why we explain a network's prediction, and the three things every later
/// lesson uses: the model (its layers and the shape each one outputs), the data (the shapes
/// data set) and one prediction,
///
///     z = f(x)  (logits [L])          P_c = exp(z_c) / Σ_j exp(z_j),   Σ_c P_c = 1
public enum IntroLesson: Lesson {
    public static let id = "intro"
    /// One line for `tutor lessons`, in the reader's language.
    public static var summary: String { translated("Why explain a CNN; the model, the data and one prediction") }

    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let classifier = context.classifier
        let (image, input) = try CAMLessonSupport.picture(context)    // [3, H, W] each
        let notebook = Notebook(lesson: id, title: text("title"))
        notebook.prose(text("intro"))

        // Step 1: why explanations matter, in the article's three stages.
        notebook.step(text("why.title"), id: "intro.why")
        notebook.prose(text("why.body"))

        // Step 2: the model, with each layer's output shape measured by running the input.
        notebook.step(text("model.title"), id: "intro.model")
        // Leaves, except inside a residual block, which is one row (a ResNet has a hundred leaves).
        var layers: [Layer] = []
        func collect(_ layer: Layer) {
            if layer is Residual || (layer.children.isEmpty && !layer.name.isEmpty) { layers.append(layer); return }
            for (_, child) in layer.children { collect(child) }
        }
        collect(classifier.network)
        var outputShapes: [String: [Int]] = [:]
        var pooledFeatures: [Float] = []                                                    // [K]: the head's input a
        for layer in layers {
            let name = layer.name
            let isPool = layer is GlobalAveragePool
            layer.hooks.forward = { output in
                outputShapes[name] = output.shape
                if isPool { pooledFeatures = output.data }
                return output
            }
        }
        classifier.prepareForExplanation()
        let logitsFromHookedRun = classifier.forward(input.reshaped([1] + input.shape))    // [1, L]
        for layer in layers { layer.hooks.forward = nil }
        let parameterCount = classifier.network.namedParameters.reduce(0) { $0 + $1.parameter.value.count }
        notebook.prose(text(context.usesShapesData ? "model.body" : "model.body.resnet", ["input": CAMLessonSupport.shape([1] + input.shape),
                                           "layers": "\(layers.count)", "parameters": "\(parameterCount)"]))
        notebook.table(text("model.table"), headers: ["layer", "type", "summary", "output shape"],
                       rows: layers.map { layer in
                           [layer.name, layer.typeName, layer.summary,
                            outputShapes[layer.name].map(CAMLessonSupport.shape) ?? "?"]
                       })
        let lastFeatures = context.defaultCAMLayer(for: classifier)
        notebook.prose(text(context.usesShapesData ? "model.after" : "model.after.resnet",
                            ["layer": lastFeatures, "shape": outputShapes[lastFeatures].map(CAMLessonSupport.shape) ?? "?",
                             "blocks": "\(layers.filter { $0 is Residual }.count)"]))

        // Step 3: the data.
        notebook.step(text("data.title"), id: "intro.data")
        let size = classifier.inputSize[1]
        if context.usesShapesData {
            notebook.prose(text("data.body", ["size": "\(size)", "classes": classifier.classNames.joined(separator: ", ")]))
            let examples = ShapesDataset(count: 3, seed: 2026 + context.seed, imageSize: size)
            notebook.picture(text("data.examples"), (0..<examples.count).map { index in
                let sample = examples.sample(at: index)
                return .image(ShapesDataset.classNames[sample.label], RGBImage(tensor: sample.image))
            })
        } else {
            notebook.prose(text("data.body.imagenet", ["size": "\(size)", "count": "\(classifier.classNames.count)",
                                                       "resize": "\(classifier.spec.resizeShorterSide ?? size)",
                                                       "examples": classifier.classNames.prefix(3).joined(separator: ", ")]))
        }

        // Step 4: one prediction.
        notebook.step(text("predict.title"), id: "intro.predict")
        notebook.prose(text("predict.body"))
        notebook.picture(text("predict.picture"), [.image("x", RGBImage(tensor: image))])
        notebook.tensor("x", input, caption: text("predict.input", ["shape": CAMLessonSupport.shape(input.shape)]))
        let logits = classifier.forward(input.reshaped([1] + input.shape))                  // [1, L]
        notebook.tensor("z", logits.reshaped([logits.count]), caption: text("predict.logits"))
        notebook.math("P_c = exp(z_c) / Σⱼ exp(zⱼ)", latex: #"P_c = \frac{e^{z_c}}{\sum_j e^{z_j}}"#)
        let probabilities = softmax(logits).reshaped([logits.count])                       // [L]
        notebook.tensor("P", probabilities, caption: text("predict.probabilities"))
        let predicted = probabilities.argmax
        // Every class of a small model; the five most probable of a thousand.
        let shownClasses = classifier.classNames.count <= 10
            ? Array(classifier.classNames.indices)
            : Array(classifier.classNames.indices.sorted { probabilities.data[$0] > probabilities.data[$1] }.prefix(5))
        notebook.table(text(shownClasses.count == classifier.classNames.count ? "predict.table" : "predict.table.top",
                            ["shown": "\(shownClasses.count)", "count": "\(classifier.classNames.count)"]),
                       headers: ["c", "class", "z_c", "P_c"],
                       rows: shownClasses.map { c in
                           ["\(c)", classifier.classNames[c], CAMLessonSupport.number(logits.data[c]),
                            CAMLessonSupport.number(probabilities.data[c])]
                       }, dataColumns: [1])
        // L probabilities, each rounded in its exponential and its division, add up to 1.
        notebook.check(.equal(text("predict.sum"), "Σ P_c", probabilities.sum(), "1", 1,
                              tolerance: .sum(of: probabilities.data)))
        notebook.check(.equal(text("predict.same"), "z (hooked run)", logitsFromHookedRun, "z", logits, tolerance: .exact))
        notebook.check(.truth(text("predict.argmax"), "argmax P = argmax z = \(predicted)", predicted == logits.argmax))
        notebook.prose(text("predict.after", ["class": classifier.classNames[predicted],
                                              "probability": CAMLessonSupport.number(probabilities.data[predicted])]))

        // Step 5: why residuals are not zero, on one sum added in two orders.
        notebook.step(text("numbers.title"), id: "intro.numbers")
        notebook.prose(text("numbers.body"))
        notebook.math("|fl(Σᵢ aᵢ) − Σᵢ aᵢ| ≤ γₙ · Σᵢ |aᵢ|,   γₙ = n·u / (1 − n·u),   u = 2⁻²⁴",
                      latex: #"\bigl|\mathrm{fl}\bigl(\textstyle\sum_i a_i\bigr) - \sum_i a_i\bigr| \le \gamma_n \sum_i |a_i|, \qquad \gamma_n = \frac{n u}{1 - n u}, \quad u = 2^{-24}"#)
        // The terms of the predicted logit: z_c = Σ_j W_cj · a_j + b_c.
        let head = classifier.network.allLayers.last { $0 is Linear } as? Linear
        let terms: [Float] = head.map { head in
            (0..<Swift.min(head.inputFeatures, pooledFeatures.count)).map { head.weight.value.data[predicted * head.inputFeatures + $0] * pooledFeatures[$0] }
                + [head.bias?.value.data[predicted] ?? 0]
        } ?? input.data
        notebook.prose(text("numbers.example", ["count": "\(terms.count)", "class": classifier.classNames[predicted]]))
        let forwardSum = terms.reduce(Float(0), +)
        let backwardSum = terms.reversed().reduce(Float(0), +)
        let exactSum = terms.reduce(0.0) { $0 + Double($1) }
        let sumTolerance = Tolerance.sum(of: terms)
        notebook.table(text("numbers.table"), headers: ["order", "Σ (float32)", "Σ (float64)", "difference"],
                       rows: [("first → last", forwardSum), ("last → first", backwardSum)].map { order, total in
                           [order, String(format: "%.7f", total), String(format: "%.7f", exactSum),
                            "≈" + String(format: "%.2e", Double(total) - exactSum)]
                       })
        notebook.check(.equal(text("numbers.check"), "first → last", Double(forwardSum), "last → first", Double(backwardSum),
                              tolerance: sumTolerance + sumTolerance))
        notebook.references(text)
        return notebook
    }
}
