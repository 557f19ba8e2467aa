/// The sanity checks of Adebayo et al. (2018), "Sanity checks for saliency maps": an explanation
/// that stays the same when the network's weights are replaced by random ones, or when the
/// network learnt nothing but noise, cannot be explaining what the network learnt.
///
/// - Cascading model-parameter randomisation: re-initialise the layers one step at a time from
///   the top (the classifier head) down to the first convolution, keeping the earlier steps
///   random, and compare each new map with the original one (`cascadingRandomisation`).
/// - Data randomisation: compare the maps of the network with those of the same network trained
///   on shuffled labels (`dataRandomisation`).
///
/// The comparisons are `Similarity.compare`: Spearman's ρ of the absolute and of the signed
/// maps, and SSIM. The classifier passed in is never changed: the cascade runs on a copy.
public enum SanityChecks {
    /// What one step of the cascade re-initialises.
    public enum Granularity: String, CaseIterable, Sendable, Codable {
        /// One layer with parameters per step (Conv2d, BatchNorm2d, Linear), as Quantus's MPRT
        /// steps through every module that has `reset_parameters`.
        case layers
        /// One block per step: a whole residual block, or a layer with parameters outside any
        /// block, as Adebayo et al. step through Inception v3's blocks ("Mixed_7c", …).
        case blocks
        /// One stage of the network per step, as the ResNet paper's table of stages counts them: a
        /// child with children (a ResNet's layer4, …, layer1) alone, and neighbouring children
        /// without (the stem's conv1 and bn1) together: fc, layer4, …, layer1, "conv1 + bn1". The
        /// same cascade in fewer, longer strides, for a photo network in a lesson that must be quick.
        case stages
    }

    /// One step of the cascade: its name (the layer's or block's) and the layers with
    /// parameters it re-initialises.
    public struct RandomisationStep: Sendable, Equatable, Codable {
        public var name: String
        public var layers: [String]
    }

    /// The steps of the cascade, top first: the reverse of the network's order (pre-order of the
    /// layer tree, the order of PyTorch's `named_modules`).
    ///
    ///     small CNN, .layers:  classifier, features.9 (BatchNorm), features.8 (Conv), …, features.0
    ///     ResNet, .blocks:     fc, layer4.1, layer4.0, …, layer1.0, bn1, conv1
    ///     ResNet, .stages:     fc, layer4, layer3, layer2, layer1, conv1 + bn1
    public static func cascade(of classifier: ImageClassifier, granularity: Granularity = .layers) -> [RandomisationStep] {
        let units: [[Layer]]
        switch granularity {
        case .layers: units = parameterisedLeaves(classifier.network).map { [$0] }
        case .blocks: units = blocks(classifier.network).map { [$0] }
        case .stages: units = stages(classifier.network)
        }
        return units.reversed().map { unit in
            RandomisationStep(name: unit.map(\.name).joined(separator: " + "), layers: unit.flatMap { parameterisedLeaves($0).map(\.name) })
        }
    }

    /// The children with parameters in order, neighbouring leaves in one group (layers without
    /// parameters between them, a ReLU or a pooling, do not part them).
    static func stages(_ network: Layer) -> [[Layer]] {
        var groups: [[Layer]] = []
        var leavesGoOn = false
        for child in network.children.map(\.layer) where !parameterisedLeaves(child).isEmpty {
            let isLeaf = child.children.isEmpty
            if isLeaf && leavesGoOn { groups[groups.count - 1].append(child) } else { groups.append([child]) }
            leavesGoOn = isLeaf
        }
        return groups
    }

    /// Layers without children that have parameters, in pre-order.
    static func parameterisedLeaves(_ layer: Layer) -> [Layer] {
        layer.allLayers.filter { $0.children.isEmpty && !$0.parameters.isEmpty }
    }

    /// Residual blocks whole, and the other layers with parameters, in pre-order.
    static func blocks(_ layer: Layer) -> [Layer] {
        if layer is Residual || layer.children.isEmpty { return parameterisedLeaves(layer).isEmpty ? [] : [layer] }
        return layer.children.flatMap { blocks($0.layer) }
    }

    // MARK: re-initialising

    /// Puts a layer back to what a freshly built and initialised network has, drawing from
    /// `generator` exactly as `Trainer.initialize` does (so that running this over
    /// `network.allLayers` with `SeededGenerator(seed: s, stream: 1)` gives its weights):
    ///
    ///     Conv2d:       W ~ N(0, 2/fan_in)  (He), fan_in = C_in·k·k;   b = 0
    ///     Linear:       W ~ U(−1/√fan_in, 1/√fan_in) (PyTorch's default); b = 0
    ///     BatchNorm2d:  γ = 1, β = 0, running mean 0, running variance 1
    ///
    /// The BatchNorm rule is PyTorch's `reset_parameters` (what Quantus's MPRT calls): the layer
    /// becomes y = x/√(1 + ε), a near-identity, so the randomness of a ResNet comes from its
    /// convolutions and the head, as in a network that was never trained.
    public static func reinitialise(_ layer: Layer, generator: inout SeededGenerator) {
        switch layer {
        case let conv as Conv2d:
            let std = (2 / Float(conv.inputChannels * conv.kernelSize * conv.kernelSize)).squareRoot()
            conv.weight.value = Tensor(shape: conv.weight.value.shape, data: generator.normals(count: conv.weight.value.count, scale: std))
            if let bias = conv.bias { bias.value = Tensor(zeros: bias.value.shape) }
        case let linear as Linear:
            let bound = 1 / Float(linear.inputFeatures).squareRoot()
            linear.weight.value = Tensor(shape: linear.weight.value.shape,
                                         data: linear.weight.value.data.map { _ in generator.uniform(-bound, bound) })
            if let bias = linear.bias { bias.value = Tensor(zeros: bias.value.shape) }
        case let norm as BatchNorm2d:
            norm.weight.value = Tensor(repeating: 1, shape: [norm.channels])
            norm.bias.value = Tensor(zeros: [norm.channels])
            (norm.runningMean, norm.runningVariance) = (Tensor(zeros: [norm.channels]), Tensor(repeating: 1, shape: [norm.channels]))
            norm.batchesTracked = 0
        default:
            precondition(layer.parameters.isEmpty, "no re-initialisation rule for a \(layer.typeName) layer")
        }
    }

    /// Re-initialises a layer from its own random stream, a function of the seed and the
    /// layer's name only, so a layer gets the same random weights whatever the granularity and
    /// whatever was re-initialised before:
    ///
    ///     generator = SeededGenerator(seed: seed, stream: FNV-1a-64(UTF-8 bytes of the name))
    public static func reinitialise(_ layer: Layer, seed: UInt64) {
        var generator = SeededGenerator(seed: seed, stream: stream(ofLayerNamed: layer.name))
        reinitialise(layer, generator: &generator)
    }

    /// FNV-1a, 64 bits: h ← (h ⊕ byte) · 1099511628211 from h = 14695981039346656037.
    public static func stream(ofLayerNamed name: String) -> UInt64 {
        name.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// A classifier with the same architecture and a copy of every parameter and buffer; changing
    /// one leaves the other as it was.
    public static func copy(of classifier: ImageClassifier) throws -> ImageClassifier {
        let copy = try ImageClassifier(spec: classifier.spec)
        try copy.loadStateDict(Dictionary(classifier.stateDict, uniquingKeysWith: { first, _ in first }), source: "copy")
        return copy
    }

    // MARK: the cascade

    /// One step's outcome, one entry per input.
    public struct CascadeStep: Sendable {
        public var step: RandomisationStep
        /// Original map against the map after this step (and every step above it).
        public var similarities: [MapSimilarity]
        /// y^c of the randomised network, per input.
        public var scores: [Float]
        /// The randomised network's heatmaps, when the cascade was asked to keep them; else empty.
        public var heatmaps: [Tensor]
        /// A CAM's channel weights α_k for each input, kept with the heatmaps (nil for a method
        /// without them); else empty.
        public var channelWeights: [[Float]?] = []

        /// The mean of one measure over the inputs where it is defined; nil when it is nowhere.
        public func mean(_ measure: (MapSimilarity) -> Double?) -> Double? {
            let values = similarities.compactMap(measure)
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
    }

    public struct CascadeResult: Sendable {
        public var method: String
        public var granularity: Granularity
        public var seed: UInt64
        /// y^c of the trained network, per input.
        public var originalScores: [Float]
        /// The trained network's heatmaps, when kept; else empty.
        public var originalHeatmaps: [Tensor]
        /// Top first, each step adding its layers to the random ones.
        public var steps: [CascadeStep]
    }

    /// Cascading model-parameter randomisation (Adebayo et al. 2018, §4.1; Quantus's MPRT with
    /// layer_order "top_down"): for k = 1 … K, with the layers of steps 1 … k re-initialised
    /// (`reinitialise(_:seed:)`) and the rest trained,
    ///
    ///     E₀ = explanation of the trained network,   E_k = explanation after step k
    ///     similarities[k] = Similarity.compare(E₀, E_k)      for each input and its target
    ///
    /// A method that passes loses its similarity to E₀ as the top layers become random; one
    /// whose maps survive (ρ and SSIM near 1 with a random head) shows the picture, not the model.
    ///
    /// - Parameters:
    ///   - inputs: normalised pictures [C, H, W] (or [1, C, H, W]), each explained for its target
    ///   - progress: (explanations done, explanations in all), after each one
    /// - Returns: per step, per input; `classifier` itself is untouched (the work is on a copy).
    public static func cascadingRandomisation(
        _ classifier: ImageClassifier, explainer: any Explainer, inputs: [Tensor], targets: [ExplanationTarget],
        settings: ExplainerSettings = ExplainerSettings(), granularity: Granularity = .layers, seed: UInt64 = 42,
        keepingHeatmaps: Bool = false, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> CascadeResult {
        try cascadingRandomisation(classifier, explainers: [explainer], inputs: inputs, targets: targets, settings: settings,
                                   granularity: granularity, seed: seed, keepingHeatmaps: keepingHeatmaps, progress: progress)[0]
    }

    /// The same for several methods at once, one result per explainer in their order: each
    /// step re-initialises its layers once and every method explains the network it leaves.
    /// The re-initialisation is seeded per layer, so each result is the one a call of its own
    /// gives; drawing a ResNet-34's 21 million random weights once per step instead of once
    /// per method and step is what this saves.
    public static func cascadingRandomisation(
        _ classifier: ImageClassifier, explainers: [any Explainer], inputs: [Tensor], targets: [ExplanationTarget],
        settings: ExplainerSettings = ExplainerSettings(), granularity: Granularity = .layers, seed: UInt64 = 42,
        keepingHeatmaps: Bool = false, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> [CascadeResult] {
        precondition(inputs.count == targets.count, "one target per input: \(inputs.count) inputs, \(targets.count) targets")
        let network = try copy(of: classifier)
        let steps = cascade(of: network, granularity: granularity)
        var done = 0
        let total = explainers.count * inputs.count * (steps.count + 1)
        /// [explainer][input]; methods that can share their passes (`SharedGradientPass`) do.
        func explainAll() throws -> [[Explanation]] {
            guard SharedGradientPass.serves(explainers) else {
                return try explainers.map { explainer in
                    try zip(inputs, targets).map { input, target in
                        defer { done += 1; progress(done, total) }
                        return try explainer.explain(pictureShaped(input), classifier: network, target: target, settings: settings)
                    }
                }
            }
            let byInput = try zip(inputs, targets).map { input, target in
                defer { done += explainers.count; progress(done, total) }
                return try SharedGradientPass.explain(explainers, input: pictureShaped(input), classifier: network, target: target, settings: settings)
            }
            return explainers.indices.map { index in byInput.map { $0[index] } }
        }
        let originals = try explainAll()
        let preparedOriginals = prepareConcurrently(originals)
        var outcomes = [[CascadeStep]](repeating: [], count: explainers.count)
        for step in steps {
            // Each layer draws from a stream of its own (`reinitialise(_:seed:)`): side by side on
            // the threads, the same weights as one after another.
            let layers = step.layers.compactMap(network.layer(named:))
            Gemm.concurrently(layers.count) { reinitialise(layers[$0], seed: seed) }
            let explained = try explainAll()
            let similarities = try compareConcurrently(preparedOriginals, explained)
            for index in explainers.indices {
                let randomised = explained[index]
                outcomes[index].append(CascadeStep(step: step, similarities: similarities[index],
                                                   scores: randomised.map(\.score), heatmaps: keepingHeatmaps ? randomised.map(\.heatmap) : [],
                                                   channelWeights: keepingHeatmaps ? randomised.map(\.channelWeights) : []))
            }
        }
        return explainers.indices.map { index in
            CascadeResult(method: explainers[index].id, granularity: granularity, seed: seed, originalScores: originals[index].map(\.score),
                          originalHeatmaps: keepingHeatmaps ? originals[index].map(\.heatmap) : [], steps: outcomes[index])
        }
    }

    /// The trained network's maps, [explainer][input], prepared once for the comparisons with
    /// every step (`Similarity.PreparedMap`), side by side on the threads.
    static func prepareConcurrently(_ originals: [[Explanation]]) -> [[Similarity.PreparedMap]] {
        let pairs = originals.indices.flatMap { method in originals[method].indices.map { (method, $0) } }
        var prepared = [Similarity.PreparedMap?](repeating: nil, count: pairs.count)
        prepared.withUnsafeMutableBufferPointer { prepared in
            Gemm.concurrently(pairs.count) { index in
                let (method, input) = pairs[index]
                prepared[index] = Similarity.PreparedMap(originals[method][input].heatmap)
            }
        }
        var next = 0
        return originals.map { maps in
            defer { next += maps.count }
            return prepared[next..<(next + maps.count)].map { $0! }
        }
    }

    /// `Similarity.compare` of each pair of maps, [explainer][input]: the pairs side by side on
    /// the threads (each comparison is one thread's loop, so the results are the same).
    static func compareConcurrently(_ originals: [[Similarity.PreparedMap]], _ randomised: [[Explanation]]) throws -> [[MapSimilarity]] {
        let pairs = originals.indices.flatMap { method in originals[method].indices.map { (method, $0) } }
        var results = [Result<MapSimilarity, Error>?](repeating: nil, count: pairs.count)
        results.withUnsafeMutableBufferPointer { results in
            Gemm.concurrently(pairs.count) { index in
                let (method, input) = pairs[index]
                results[index] = Result {
                    try Similarity.compare(originals[method][input], Similarity.PreparedMap(randomised[method][input].heatmap))
                }
            }
        }
        var byMethod = originals.map { _ in [MapSimilarity]() }
        for ((method, _), result) in zip(pairs, results) { byMethod[method].append(try result!.get()) }
        return byMethod
    }

    // MARK: data randomisation

    /// The data-randomisation test (Adebayo et al. 2018, §5): the same architecture trained on
    /// the true labels and on shuffled labels (which it can only memorise), the same method,
    /// the same inputs and targets:
    ///
    ///     similarities[i] = Similarity.compare(E_trained(xᵢ), E_shuffled(xᵢ))
    ///
    /// Maps that stay alike although the second network learnt no relation between pictures
    /// and labels do not depend on what the network learnt.
    public static func dataRandomisation(
        trained: ImageClassifier, shuffledLabels: ImageClassifier, explainer: any Explainer, inputs: [Tensor],
        targets: [ExplanationTarget], settings: ExplainerSettings = ExplainerSettings()
    ) throws -> [MapSimilarity] {
        precondition(inputs.count == targets.count, "one target per input: \(inputs.count) inputs, \(targets.count) targets")
        guard trained.classNames.count == shuffledLabels.classNames.count else {
            throw MiniNetError.invalidArgument("the two classifiers have \(trained.classNames.count) and \(shuffledLabels.classNames.count) classes; the data-randomisation test compares two networks with the same classes")
        }
        return try zip(inputs, targets).map { input, target in
            let picture = pictureShaped(input)
            let original = try explainer.explain(picture, classifier: trained, target: target, settings: settings)
            let shuffled = try explainer.explain(picture, classifier: shuffledLabels, target: target, settings: settings)
            return try Similarity.compare(original.heatmap, shuffled.heatmap)
        }
    }

    /// [1, C, H, W] → [C, H, W], the shape explainers take; [C, H, W] as it is.
    static func pictureShaped(_ input: Tensor) -> Tensor {
        input.rank == 4 && input.shape[0] == 1 ? input.reshaped(Array(input.shape.dropFirst())) : input
    }
}
