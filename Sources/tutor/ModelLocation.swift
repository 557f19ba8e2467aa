import Foundation
import MiniNet

/// Where the shipped model lives: `models/` of the repository, found from the current
/// directory or from the executable's location (.build/…/tutor lies inside the repository).
enum ModelLocation {
    static let defaultFileName = "mininet.safetensors"

    static func defaultWeights(named fileName: String = defaultFileName) throws -> String {
        for folder in searchFolders(named: "models") {
            let path = folder.appendingPathComponent(fileName).path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw MiniNetError.file("models/\(fileName)", "not found; pass --weights PATH, set TUTOR_MODELS to the folder that holds it, or run `tutor train --out models/\(fileName)`")
    }

    /// The photo a ResNet explains when no --image is given: Chelsea the cat, as in the
    /// source article (images/photos/chelsea.png, CC0).
    static func defaultPhoto() throws -> String {
        for folder in searchFolders(named: "images/photos") {
            let path = folder.appendingPathComponent("chelsea.png").path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw MiniNetError.file("images/photos/chelsea.png", "not found; pass --image PATH to a photo")
    }

    /// `folder` under the current directory and up to five levels above it, then beside the
    /// executable and above it ($TUTOR_MODELS first, for models).
    static func searchFolders(named folder: String) -> [URL] {
        var candidates: [URL] = []
        if folder == "models", let models = ProcessInfo.processInfo.environment["TUTOR_MODELS"] {
            candidates.append(URL(fileURLWithPath: models))
        }
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent(folder))
            directory.deleteLastPathComponent()
        }
        var executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        if let path = Bundle.main.executablePath { executable = URL(fileURLWithPath: path).resolvingSymlinksInPath() }
        directory = executable.deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent(folder))
            directory.deleteLastPathComponent()
        }
        return candidates
    }
}

extension ModelLocation {
    /// torchvision's weights for `variant` in torch's hub cache ($TORCH_HOME/hub/checkpoints,
    /// by default ~/.cache/torch/hub/checkpoints), where `torchvision.models.resnet34(weights=…)`
    /// saves them as resnet34-<hash>.pth.
    static func torchHubWeights(for variant: ResNetVariant) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let torchHome = environment["TORCH_HOME"]
            ?? (environment["XDG_CACHE_HOME"].map { $0 + "/torch" })
            // ~ as Python's os.path.expanduser reads it: $HOME first, then the password file.
            ?? ((environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.cache/torch")
        let folder = torchHome + "/hub/checkpoints"
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasPrefix(variant.rawValue + "-") && $0.hasSuffix(".pth") }.sorted()
        guard let file = files.first else {
            throw MiniNetError.file(folder, "holds no \(variant.rawValue)-*.pth; pass --weights PATH to a torchvision \(variant.rawValue) state_dict (.pth or .safetensors)")
        }
        return folder + "/" + file
    }

    /// Whether `path` is a safetensors file written by `tutor train` (it carries the
    /// architecture in its metadata); a torchvision state_dict does not.
    static func isTutorModelFile(_ path: String) throws -> Bool {
        // Opening a FIFO would wait for a writer forever: only regular files are opened.
        try CheckpointLimits.checkWeightsFile(path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MiniNetError.file(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        defer { try? handle.close() }
        guard let sizeBytes = try? handle.read(upToCount: 8), sizeBytes.count == 8 else { return false }
        let headerSize = sizeBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerSize < 100_000_000, let header = try? handle.read(upToCount: Int(headerSize)) else { return false }
        return String(decoding: header, as: UTF8.self).contains("\"\(ImageClassifier.metadataKey)\"")
    }
}
