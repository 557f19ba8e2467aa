import Foundation
import MiniNet

/// Where the shipped model lives: `models/` of the repository, found from the current
/// directory or from the executable's location (.build/…/tutor lies inside the repository).
enum ModelLocation {
    static let defaultFileName = "mininet.safetensors"

    static func defaultWeights(named fileName: String = defaultFileName) throws -> String {
        var candidates: [URL] = []
        if let folder = ProcessInfo.processInfo.environment["TUTOR_MODELS"] {
            candidates.append(URL(fileURLWithPath: folder))
        }
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent("models"))
            directory.deleteLastPathComponent()
        }
        var executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        if let path = Bundle.main.executablePath { executable = URL(fileURLWithPath: path).resolvingSymlinksInPath() }
        directory = executable.deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent("models"))
            directory.deleteLastPathComponent()
        }
        for folder in candidates {
            let path = folder.appendingPathComponent(fileName).path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw MiniNetError.file("models/\(fileName)", "not found; pass --weights PATH, or run `tutor train --out models/\(fileName)`")
    }
}
