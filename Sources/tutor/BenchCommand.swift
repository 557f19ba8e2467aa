import ArgumentParser
import Lessons
import Foundation
import MiniNet

/// `tutor bench`: how long MiniNet takes to run and to explain a full-size torchvision ResNet,
/// measured the way tools/bench/bench_torch.py measures PyTorch, pytorch-grad-cam, Captum and
/// Zennit, so that tools/bench/resnet.sh can put the two side by side.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: translated("Time the forward pass and each explanation method on a full-size ResNet."),
        discussion: translated("""
        The benchmark runs on one 224×224 input: the tensor in --input-npy, or else a seeded \
        random picture, normalised with ImageNet's mean and standard deviation. Without \
        --weights the network has seeded random weights (He initialisation), which take exactly \
        as long to run as trained ones. The class explained is the predicted one. Each measure \
        is run once to warm up and then --repeats times (Integrated Gradients --ig-repeats \
        times, warmed up with one batch of its steps), and the median wall-clock time is \
        reported. The measures are the forward pass (logits only) and every method of tutor \
        explain, each the whole call that tutor explain makes, with the defaults of tutor \
        explain: the CAM family at the last block of layer4, from the picture to the upsampled \
        map; LRP with the BatchNorm layers merged into the convolutions once, in the warm-up \
        run, and kept while the weights stay the same (Zennit's canonizer merges on every \
        call), and lrp once with each of Zennit's composites; SmoothGrad and VarGrad with 50 noisy samples. \
        Integrated Gradients uses Gauss–Legendre steps, a zero baseline, --ig-steps and \
        --ig-batch. Like every command that runs the network many times (and unlike tutor \
        explain and tutor predict, which run it once or twice), the benchmark keeps Winograd's \
        transformed kernels for the 7×7 stage of one picture too, and on 2 to 4 threads \
        Integrated Gradients gives each thread whole batches of its path, on a copy of the \
        network. Peak memory is the largest resident set of the whole process (getrusage \
        ru_maxrss), over the whole run and, where Linux lets it be reset, during each measure. \
        Progress goes to standard error; the table, or with --json one object shaped like the \
        Python peer's, goes to standard output.
        """)
    )

    @Option(help: .translated("The torchvision ResNet to time: resnet18, resnet34 or resnet50."))
    var model: ResNetVariant = .resnet34

    @Option(help: .translated("A torchvision state_dict (.pth or .safetensors) for --model. Without it, the network gets seeded random weights."))
    var weights: String?

    @Option(name: .customLong("input-npy"), help: .translated("An already normalised 3×224×224 (or 1×3×224×224) float32 .npy input. Without it, a seeded random picture is used."))
    var inputNpy: String?

    @Option(parsing: .unconditional, help: .translated("How many timed runs of each measure to take the median of, after one warm-up run."), number: NumberText.whole)
    var repeats: Int = 3

    @Option(name: .customLong("ig-repeats"), parsing: .unconditional, help: .translated("How many timed runs of Integrated Gradients to take the median of."), number: NumberText.whole)
    var igRepeats: Int = 1

    @Option(name: .customLong("ig-steps"), parsing: .unconditional, help: .translated("The number of Gauss–Legendre steps for Integrated Gradients."), number: NumberText.whole)
    var igSteps: Int = 200

    /// 8 is as fast as 32 on a 224×224 ResNet-34 (measured: 6.0 s against 6.4 s for 32 steps)
    /// and needs a third of the memory, since every convolution keeps its im2col columns.
    @Option(name: .customLong("ig-batch"), parsing: .unconditional, help: .translated("How many Integrated Gradients steps go through the network in one batch."), number: NumberText.whole)
    var igBatch: Int = 8

    /// The deletion curve (Petsiuk et al.) of the Grad-CAM map: 101 perturbed inputs, this many
    /// at a time.
    @Option(name: .customLong("deletion-batch"), parsing: .unconditional, help: .translated("How many perturbed inputs of the deletion curve go through the network in one batch."), number: NumberText.whole)
    var deletionBatch: Int = Faithfulness.defaultBatchSize

    @Option(parsing: .unconditional, help: .translated("The most threads for the matrix products (default: TUTOR_THREADS, or else every core)."), number: NumberText.whole)
    var threads: Int?

    @Option(parsing: .unconditional, help: .translated("Chooses the random weights and the random picture."), number: NumberText.seed)
    var seed: UInt64 = 0

    /// A smaller input makes the command fast enough for tests; the ResNet accepts any size of
    /// at least 32 pixels because it ends in global average pooling.
    @Option(name: .customLong("image-size"), parsing: .unconditional, help: .translated("The input's height and width in pixels.", visibility: .hidden), number: NumberText.whole)
    var imageSize: Int = 224

    /// Narrower stages (every width divided by this) make the random network small enough for
    /// tests in a debug build; the depth and the block structure stay those of --model.
    @Option(name: .customLong("width-divisor"), parsing: .unconditional, help: .translated("Divide every width of the random network by this.", visibility: .hidden), number: NumberText.whole)
    var widthDivisor: Int = 1

    @Option(name: .customLong("only"), parsing: .upToNextOption,
            help: .translated("Time only these: forward, deletion (the deletion curve of the Grad-CAM map), or methods of tutor explain by their --method id, separated by spaces or commas, for example --only forward gradcam++,scorecam. lrp stands for all of its composites. Without it, the forward pass, the deletion curve and every method are timed."))
    var onlyMeasures: [String] = []

    @Flag(help: .translated("Print one JSON object with the same structure as tools/bench/bench_torch.py's output."))
    var json = false

    @Option(name: .customLong("save-weights"),
            help: .translated("Write the network's weights (the seeded random ones without --weights) to this .safetensors file, with torchvision's names, and time nothing. Every lesson then runs on it with --model and --weights.", valueName: "path"))
    var saveWeights: String?

    func validate() throws {
        /// Throws when `value` of `flag` is outside `range`, naming both and giving `example`.
        func check(_ flag: String, _ value: Int, in range: ClosedRange<Int>, example: Int) throws {
            guard range.contains(value) else {
                throw ValidationError(translated("{$1} must be between {$2} and {$3} (it is {$4}); for example {$5}.",
                                                 with: flag, range.lowerBound, range.upperBound, value, "\(flag) \(example)"))
            }
        }
        try check("--repeats", repeats, in: 1...1000, example: 3)
        try check("--ig-repeats", igRepeats, in: 1...1000, example: 1)
        try check("--ig-steps", igSteps, in: 1...100_000, example: 200)
        try check("--ig-batch", igBatch, in: 1...4096, example: 8)
        try check("--deletion-batch", deletionBatch, in: 1...4096, example: 16)
        if let threads { try check("--threads", threads, in: 1...Gemm.threadLimit, example: 2) }
        let imageSizes = 32...1024
        guard imageSizes.contains(imageSize) else {
            throw ValidationError(translated("--image-size must be between {$1} and {$2} pixels (it is {$3}); for example --image-size 224.",
                                             with: imageSizes.lowerBound, imageSizes.upperBound, imageSize))
        }
        let divisors = [1, 2, 4, 8, 16]
        guard divisors.contains(widthDivisor) else {
            throw ValidationError(translated("--width-divisor must be {$1} or {$2} (it is {$3}).",
                                             with: divisors.dropLast().map(String.init).joined(separator: ", "), divisors.last!, widthDivisor))
        }
        if widthDivisor != 1 && weights != nil {
            throw ValidationError(translated("--width-divisor applies to the random network only; leave it out with --weights."))
        }
        if try chosenMeasures().isEmpty {
            throw ValidationError(translated("--only names nothing to time; name a measure, for example --only forward gradcam."))
        }
        try OutputFiles.check([.init(flag: "--save-weights", path: saveWeights, example: "resnet34.safetensors")],
                              inputs: [("--weights", weights), ("--input-npy", inputNpy)])
    }

    /// The measures to time, in the order of `BenchMeasure.all`: those --only names, or all.
    func chosenMeasures() throws -> [BenchMeasure] {
        let all = BenchMeasure.all
        guard !onlyMeasures.isEmpty else { return all }
        var keys = Set<String>()
        for token in onlyMeasures.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) })
        where !token.isEmpty {
            // Before the duplicates go: `lrp` names lrp_epsilon too, which lrp-epsilon times.
            let named = BenchMeasure.withEveryComposite.filter { $0.isNamed(by: token, igSteps: igSteps) }
            guard !named.isEmpty else {
                throw ValidationError(translated("--only {$1}: tutor bench times forward, deletion (the deletion curve) and the methods {$2}; for example --only forward gradcam.",
                                                 with: token, ExplainerRegistry.ids.joined(separator: ", ")))
            }
            keys.formUnion(named.map { $0.key(igSteps: igSteps) })
        }
        return all.filter { keys.contains($0.key(igSteps: igSteps)) }
    }

    @OptionGroup var language: LanguageOption

    func run() throws {
        if let threads { Gemm.setThreads(threads) }
        let threads = Gemm.maximumThreads
        // The input first: a wrong file is reported before the network takes time to build.
        let input = try loadInput()                                             // [3, H, W]
        let (classifier, weightsOrigin) = try loadClassifier()
        let weightsDescription = weightsOrigin.description
        if let saveWeights {
            try classifier.save(to: saveWeights)
            print(translated("Wrote {$1} with {$2} to {$3}.", with: model.rawValue, weightsDescription, saveWeights))
            return
        }
        classifier.prepareForExplanation()
        guard let layer = classifier.layerNames.last(where: { $0.hasPrefix("layer4.") && $0.split(separator: ".").count == 2 }) else {
            throw MiniNetError.invalidModel("the network has no block in layer4 to explain")
        }
        let batch = input.reshaped([1] + input.shape)                           // [1, 3, H, W]
        let logits = classifier.forward(batch)                                  // [1, L]
        let predicted = logits.data.indices.max { logits.data[$0] < logits.data[$1] } ?? 0
        let target = ExplanationTarget.logit(predicted)
        let baseline = Tensor(zeros: input.shape)
        // tutor explain's defaults, at the layer every CAM of the bench explains.
        var defaults = ExplainerSettings()
        defaults.layer = layer
        // The batch sizes the methods choose for themselves, reported beside the times.
        let batchSizes = BatchSizes(ablationCAM: AblationCAM(classifier: classifier).batchSize,
                                    scoreCAM: ScoreCAM(classifier: classifier).batchSize,
                                    smoothGrad: defaultIGBatchSize(for: input), smoothGradSamples: defaults.samples,
                                    integratedGradients: igBatch)

        Terminal.printError("bench: " + translated("the machine's limit: one large matrix product"))
        let limit = BenchLimit.measure(classifier: classifier, batch: batch)
        let loadBefore = loadAverages()
        Terminal.printError("bench: " + translated("{$1}, {$2}, input {$3}, class {$4} ({$5}), layer {$6}, {$7} threads",
                                                   with: model.rawValue, weightsDescription, input.shape, predicted,
                                                   classifier.classNames[predicted], layer, threads))
        let measures = try chosenMeasures()
        var seconds: [String: Double] = [:]
        var deletionArea: Double?
        var peakByMeasure: [String: Double] = [:]
        var otherWork: [String: Double] = [:]
        var wholeRunPeak = peakResidentMegabytes()
        var peakResets = true
        for measure in measures {
            let key = measure.key(igSteps: igSteps)
            let isIG = measure.isIntegratedGradients
            let runs = isIG ? igRepeats : repeats
            let label = measure.title(igSteps: igSteps, classifier: classifier)
            let call: (_ warmUp: Bool) throws -> Void
            switch measure.subject {
            case .forward:
                call = { _ in _ = classifier.inferenceLogits(batch) }
            case .method where isIG:
                // Called directly, not through the explainer, for --ig-batch (the explainer
                // chooses its own batch) and so that the warm-up is one batch of steps, as the
                // peer's is: the full run can take a minute.
                call = { warmUp in
                    _ = try integratedGradients(classifier: classifier, input: input, baseline: baseline, target: target,
                                                steps: warmUp ? min(igSteps, igBatch) : igSteps,
                                                method: .gaussLegendre, batchSize: igBatch)
                }
            case .deletion:
                // The map is made once, before the clock starts: the measure is the curve alone.
                let heatmap = try CAMFamilyExplainer.gradCAM.explain(input, classifier: classifier, target: target, settings: defaults).heatmap
                call = { _ in
                    deletionArea = try Faithfulness.deletionCurve(classifier: classifier, input: input, heatmap: heatmap,
                                                                  target: .probability(predicted), steps: BenchMeasure.deletionSteps,
                                                                  fill: .mean, batchSize: deletionBatch).area
                }
            case let .method(explainer, composite):
                var settings = defaults
                if let composite { settings.composite = composite }
                call = { _ in _ = try explainer.explain(input, classifier: classifier, target: target, settings: settings) }
            }
            // Each measure's own peak: the high-water mark is reset before its warm-up.
            wholeRunPeak = max(wholeRunPeak, peakResidentMegabytes())
            peakResets = resetPeakResidentSet() && peakResets
            let usageBefore = CPUUsage.now()
            Terminal.printError("bench: " + translated("{$1}: warm-up", with: label))
            try call(true)
            var times: [Double] = []
            for run in 1...runs {
                let start = DispatchTime.now().uptimeNanoseconds
                try call(false)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                Terminal.printError("bench: " + translated("{$1}: run {$2} of {$3}: {$4} s", with: label, run, runs,
                                                           String(format: "%.3f", times[times.count - 1])))
            }
            seconds[key] = median(times)
            peakByMeasure[key] = peakResidentMegabytes()
            if let usageBefore, let usageAfter = CPUUsage.now() { otherWork[key] = usageAfter.otherCoresBusy(since: usageBefore) }
            wholeRunPeak = max(wholeRunPeak, peakByMeasure[key]!)
        }
        let peakMemory = max(wholeRunPeak, peakResidentMegabytes())
        let keys = measures.map { $0.key(igSteps: igSteps) }

        if json {
            func byKey(_ values: [String: Double]) -> JSONOutput {
                .object(keys.compactMap { key in values[key].map { (key, JSONOutput.double($0)) } })
            }
            // In English whatever the reader's language: tools/bench/resnet.sh puts them in its report.
            let (weightsInEnglish, titlesInEnglish) = Language.$override.withValue(.en) {
                (weightsOrigin.description, measures.map { $0.title(igSteps: igSteps, classifier: classifier) })
            }
            Terminal.printJSON(.object([
                ("tool", .string("tutor bench (MiniNet, OpenBLAS)")),
                ("model", .string(model.rawValue)),
                ("weights", .string(weightsInEnglish)),
                ("input", .array(([1] + input.shape).map { .integer($0) })),
                ("target", .integer(predicted)),
                ("layer", .string(layer)),
                ("threads", .integer(threads)),
                ("sgemm_gflops_per_second", .double(limit.sgemmGFLOPsPerSecond)),
                ("sgemm_size", .integer(limit.sgemmSize)),
                ("forward_gflop", .double(limit.forwardGFLOP)),
                ("limit_convention", .string("sgemm: C = A × B of n × n float32 matrices on the bench's threads, 2n³ FLOPs over the median of 5 runs; forward_gflop: 2·Cout·Cin·k²·OH·OW per convolution and 2·Fout·Fin per linear layer for one image, as the direct method does it")),
                ("kernels", .object([("openblas", .string(MiniNet.kernels.openBLAS)), ("loops", .string(MiniNet.kernels.loops)),
                                     ("openblas_coretype", Gemm.openBLASKernelsSetting.map { .string($0) } ?? .null),
                                     ("openblas_for_processor", .string(Gemm.openBLASKernelsForProcessor)),
                                     ("own_products_wider_than_openblas", .bool(Gemm.ownLoopsWiderThanOpenBLAS))])),
                ("runs", .object([("default", .integer(repeats)), ("ig\(igSteps)", .integer(igRepeats)),
                                  ("statistic", .string("median after one warm-up"))])),
                ("ig_internal_batch_size", .integer(batchSizes.integratedGradients)),
                ("deletion_batch_size", .integer(deletionBatch)),
                ("deletion_steps", .integer(BenchMeasure.deletionSteps)),
                ("deletion_area", deletionArea.map { JSONOutput.double($0) } ?? .null),
                ("ablation_batch_size", .integer(batchSizes.ablationCAM)),
                ("scorecam_batch_size", .integer(batchSizes.scoreCAM)),
                ("smoothgrad_batch_size", .integer(batchSizes.smoothGrad)),
                ("smoothgrad_samples", .integer(batchSizes.smoothGradSamples)),
                ("smoothgrad_noise", .double(defaults.noise)),
                ("titles", .object(zip(keys, titlesInEnglish).map { ($0, JSONOutput.string($1)) })),
                ("seconds", byKey(seconds)),
                ("peak_memory_mb", .double(peakMemory)),
                ("peak_memory_mb_by_measure", byKey(peakByMeasure)),
                ("memory_convention", .string("ru_maxrss of the whole process in KiB / 1024 (MiB), monotonic since start")),
                ("memory_by_measure_convention", .string(peakResets
                    ? "ru_maxrss of the whole process after writing 5 to /proc/self/clear_refs before the measure's warm-up: its largest resident set during that measure"
                    : "ru_maxrss of the whole process after the measure (the reset through /proc/self/clear_refs failed: monotonic since start)")),
                ("other_cores_busy_by_measure", byKey(otherWork)),
                ("other_work_convention", .string("cores busy with other processes during the measure, on average: (busy time of every core in /proc/stat − this process's user and system time) / wall-clock time")),
                ("load_average_before", .doubles(loadBefore)),
                ("load_average_after", .doubles(loadAverages())),
                ("cpus", .integer(ProcessInfo.processInfo.activeProcessorCount)),
            ]))
        } else {
            print("tutor bench: \(model.rawValue), \(weightsDescription)")
            print(translated("input {$1}, class {$2} ({$3}), layer {$4}, {$5} threads",
                             with: input.shape, predicted, classifier.classNames[predicted], layer, threads))
            print(translated("median of {$1} run(s) after one warm-up; Integrated Gradients: {$2} run(s)", with: repeats, igRepeats))
            print(translated("batches: Ablation-CAM {$1} channels, Score-CAM {$2} masked inputs, SmoothGrad and VarGrad {$3} of their {$4} noisy samples, Integrated Gradients {$5} steps",
                             with: batchSizes.ablationCAM, batchSizes.scoreCAM, batchSizes.smoothGrad, batchSizes.smoothGradSamples,
                             batchSizes.integratedGradients))
            print(translated("the limit: a {$1}³ matrix product runs at {$2} GFLOP/s on {$3} threads; one forward pass is {$4} GFLOP done directly, so at least {$5} s (OpenBLAS {$6}, MiniNet's loops {$7})",
                             with: limit.sgemmSize, String(format: "%.0f", limit.sgemmGFLOPsPerSecond), threads,
                             String(format: "%.2f", limit.forwardGFLOP),
                             String(format: "%.4f", limit.forwardGFLOP / limit.sgemmGFLOPsPerSecond),
                             Self.openBLASDescription, MiniNet.kernels.loops))
            print("")
            let measureHeading = translated("measure"), secondsHeading = translated("seconds")
            let memoryHeading = translated("peak MB"), peakMemoryTitle = translated("peak memory")
            let titles = measures.map { $0.title(igSteps: igSteps, classifier: classifier) }
            let width = (titles + [measureHeading, peakMemoryTitle]).map(\.count).max() ?? 0
            let numberWidth = max(9, secondsHeading.count)
            let memoryWidth = max(9, memoryHeading.count)
            func padded(_ text: String) -> String { text + String(repeating: " ", count: max(width - text.count, 0)) }
            func right(_ text: String, _ columns: Int) -> String { String(repeating: " ", count: max(columns - text.count, 0)) + text }
            print("  " + padded(measureHeading) + " " + right(secondsHeading, numberWidth) + " " + right(memoryHeading, memoryWidth))
            for (key, title) in zip(keys, titles) {
                let memory = peakByMeasure[key].map { String(format: "%.0f", $0) } ?? ""
                print("  " + padded(title) + " " + right(String(format: "%.3f", seconds[key] ?? 0), numberWidth) + " " + right(memory, memoryWidth))
            }
            let memory = String(format: "%.0f", peakMemory)
            print("  " + padded(peakMemoryTitle) + " " + right(memory, numberWidth) + " MB")
        }
    }

    /// How many inputs the batched methods push through the network at once.
    struct BatchSizes {
        var ablationCAM: Int
        var scoreCAM: Int
        var smoothGrad: Int
        var smoothGradSamples: Int
        var integratedGradients: Int
    }

    /// Where the weights of the benchmarked network came from.
    enum WeightsOrigin {
        case random(seed: UInt64, widthDivisor: Int)
        case file(String)

        /// A phrase saying so, in the reader's language.
        var description: String {
            switch self {
            case let .random(seed, 1): return translated("random weights (seed {$1}, not trained)", with: seed)
            case let .random(seed, divisor): return translated("random weights (seed {$1}, not trained, widths divided by {$2})", with: seed, divisor)
            case let .file(path): return translated("weights from {$1}", with: path)
            }
        }
    }

    /// The network, and where its weights came from.
    func loadClassifier() throws -> (ImageClassifier, WeightsOrigin) {
        guard let weights else {
            var shape = ResNetShape(model)
            shape.stemChannels /= widthDivisor
            shape.planes = shape.planes.map { $0 / widthDivisor }
            let random = try ImageClassifier(spec: .resNet(shape, classNames: ImageNetClasses.names, imageSize: imageSize))
            Trainer.initialize(random, seed: seed)
            return (random, .random(seed: seed, widthDivisor: widthDivisor))
        }
        let spec224 = try PretrainedResNet.load(from: weights, variant: model)
        let description = WeightsOrigin.file(weights)
        guard imageSize != spec224.inputSize[1] else { return (spec224, description) }
        // The same network and weights, declared for another input size.
        var spec = spec224.spec
        spec.inputSize = [spec.inputSize[0], imageSize, imageSize]
        let resized = try ImageClassifier(spec: spec)
        try resized.loadStateDict(Dictionary(uniqueKeysWithValues: spec224.stateDict.map { ($0.name, $0.tensor) }),
                                  source: weights)
        return (resized, description)
    }

    /// The normalised input [3, H, W]: from --input-npy, or seeded uniform pixels in 0…1
    /// normalised with ImageNet's mean and standard deviation.
    func loadInput() throws -> Tensor {
        let inputSize = [3, imageSize, imageSize]
        if let inputNpy {
            var tensor = try NumpyFile.readFinite(from: inputNpy)
            if tensor.rank == 4 && tensor.shape[0] == 1 { tensor = tensor.reshaped(Array(tensor.shape.dropFirst())) }
            guard tensor.shape == inputSize else {
                throw MiniNetError.file(inputNpy, "has shape \(tensor.shape), the benchmark needs \(inputSize) (C×H×W, already normalised)")
            }
            return tensor
        }
        var generator = SeededGenerator(seed: seed, stream: 3)
        var input = Tensor(shape: inputSize, data: (0..<inputSize.reduce(1, *)).map { _ in generator.nextUniform() })
        let planeSize = imageSize * imageSize
        for index in input.data.indices {
            let channel = index / planeSize
            input.data[index] = (input.data[index] - ModelSpec.imageNetMean[channel]) / ModelSpec.imageNetStd[channel]
        }
        return input
    }

    /// The OpenBLAS kernels for the limit line: their name, who chose them when a person did
    /// (OPENBLAS_CORETYPE), the wider kernels of this processor that the choice leaves out, and
    /// whether MiniNet's own products then take the convolutions' (`Gemm.takesNarrowProduct`).
    static var openBLASDescription: String {
        let kernels = MiniNet.kernels.openBLAS
        guard Gemm.openBLASKernelsSetting != nil else { return kernels }
        guard let wider = Gemm.widerOpenBLASKernelsLeftOut else { return translated("{$1} [set by OPENBLAS_CORETYPE]", with: kernels) }
        guard Gemm.ownLoopsWiderThanOpenBLAS else {
            return translated("{$1} [set by OPENBLAS_CORETYPE; this processor runs {$2}]", with: kernels, wider)
        }
        return translated("{$1} [set by OPENBLAS_CORETYPE; this processor runs {$2}; MiniNet's own products take most of the convolutions']",
                          with: kernels, wider)
    }
}

/// One thing `tutor bench` times: the forward pass, or one method of `ExplainerRegistry` (for a
/// method that reads --composite, with one of the composites). The measures come from the
/// registry, so a method added there is timed without an edit here.
struct BenchMeasure {
    enum Subject {
        case forward
        /// The deletion curve of the Grad-CAM map (`Faithfulness.deletionCurve`).
        case deletion
        case method(any Explainer, composite: String?)
    }

    let subject: Subject

    /// The steps of the deletion measure: 101 perturbed inputs, from nothing to every pixel deleted.
    static let deletionSteps = 100

    /// The forward pass, then every method in the registry's order, a method that reads
    /// --composite once per composite. A measure whose key an earlier one has is left out:
    /// `lrp` with the epsilon composite is `lrp-epsilon`.
    static var all: [BenchMeasure] {
        var keys = Set<String>()
        // The key does not depend on the number of steps except for IG's, which appears once.
        return withEveryComposite.filter { keys.insert($0.key(igSteps: 0)).inserted }
    }

    /// `all` before measures with the same key are left out.
    static var withEveryComposite: [BenchMeasure] {
        var measures = [BenchMeasure(subject: .forward)]
        for explainer in ExplainerRegistry.all {
            if explainer.settings.contains(.composite) {
                measures += LRPComposite.ids.map { BenchMeasure(subject: .method(explainer, composite: $0)) }
            } else {
                measures.append(BenchMeasure(subject: .method(explainer, composite: nil)))
            }
        }
        measures.append(BenchMeasure(subject: .deletion))
        return measures
    }

    var isIntegratedGradients: Bool {
        if case let .method(explainer, _) = subject { return explainer is IntegratedGradientsExplainer }
        return false
    }

    /// The key of the JSON's "seconds", shared with tools/bench/bench_torch.py: the method's id
    /// with `-` as `_` and `++` as `_plus_plus` ("gradcam_plus_plus", "lrp_epsilon"), a
    /// composite after its method's id ("lrp_epsilon_plus"), Integrated Gradients with its
    /// steps ("ig200").
    func key(igSteps: Int) -> String {
        func snakeCase(_ id: String) -> String {
            id.replacingOccurrences(of: "++", with: "_plus_plus").replacingOccurrences(of: "-", with: "_")
        }
        switch subject {
        case .forward: return "forward"
        case .deletion: return "deletion"
        case _ where isIntegratedGradients: return "ig\(igSteps)"
        case let .method(explainer, composite?): return snakeCase(explainer.id + "-" + composite)
        case let .method(explainer, nil): return snakeCase(explainer.id)
        }
    }

    /// Whether `token` of --only names this measure: by the method's id (`lrp` names every
    /// composite), by its key, or "ig" for Integrated Gradients whatever its steps.
    func isNamed(by token: String, igSteps: Int) -> Bool {
        if token == key(igSteps: igSteps) { return true }
        if case let .method(explainer, _) = subject { return token == explainer.id }
        return false
    }

    /// The row title in the reader's language: the method's name as its one-line summary
    /// starts ("Grad-CAM", "SmoothGrad"), an LRP composite by its Zennit name.
    func title(igSteps: Int, classifier: ImageClassifier) -> String {
        switch subject {
        case .forward:
            return translated("forward (logits)")
        case .deletion:
            return translated("deletion curve, {$1} steps", with: BenchMeasure.deletionSteps)
        case _ where isIntegratedGradients:
            return translated("Integrated Gradients, {$1} steps", with: igSteps)
        case let .method(_, composite?):
            let name = (try? LRPComposite.named(composite, for: classifier).zennitName) ?? composite
            return "LRP \(name)"
        case let .method(explainer, nil):
            let summary = translated(explainer.summary)
            return summary.range(of: ": ").map { String(summary[..<$0.lowerBound]) } ?? explainer.id
        }
    }
}

/// The middle value of a non-empty list, or the mean of the two middle values.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// The largest resident set of this process so far, in MiB: getrusage's ru_maxrss, which Linux
/// gives in KiB (the same number Python's resource.getrusage reports).
func peakResidentMegabytes() -> Double {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    return Double(usage.ru_maxrss) / 1024
}

/// The system's load averages over 1, 5 and 15 minutes (other work competing for the cores).
func loadAverages() -> [Double] {
    var values = [Double](repeating: 0, count: 3)
    return getloadavg(&values, 3) == 3 ? values : []
}

/// Resets the process's high-water mark of resident memory to its current resident set, so
/// that ru_maxrss then gives the peak of what runs next (Linux's /proc/self/clear_refs with 5,
/// since Linux 4.0). Returns false where that is not possible.
func resetPeakResidentSet() -> Bool {
    guard let file = fopen("/proc/self/clear_refs", "w") else { return false }
    let written = fputs("5", file) >= 0
    return fclose(file) == 0 && written
}

/// The processor time used so far, by every process and by this one, to tell how much other
/// work shared the cores with a measure: the load average counts the bench's own threads too
/// and trails by a minute.
struct CPUUsage {
    /// Seconds of every core busy (user, nice, system, irq, softirq, steal) since boot.
    var allProcesses: Double
    /// Seconds of user and system time of this process.
    var thisProcess: Double
    var wallClock: Double

    /// Now, or nil without /proc/stat (not Linux).
    static func now() -> CPUUsage? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        // cpu user nice system idle iowait irq softirq steal …, in clock ticks (USER_HZ, 100 on Linux).
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return nil }
        let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return nil }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return CPUUsage(allProcesses: busy / Double(sysconf(Int32(_SC_CLK_TCK))),
                        thisProcess: seconds(usage.ru_utime) + seconds(usage.ru_stime),
                        wallClock: Double(DispatchTime.now().uptimeNanoseconds) / 1e9)
    }

    /// How many cores other processes kept busy since `earlier`, on average.
    func otherCoresBusy(since earlier: CPUUsage) -> Double {
        let wall = wallClock - earlier.wallClock
        guard wall > 0 else { return 0 }
        return max(0, (allProcesses - earlier.allProcesses) - (thisProcess - earlier.thisProcess)) / wall
    }
}
