import ArgumentParser
import Foundation
import Lessons
import MiniNet

/// The files a command will write, checked together in its `validate()`, before any work: a
/// bad destination is one line at once, not after minutes of computing, and never after some
/// of the outputs were already written.
///
/// - a file output is a name, not empty and not a folder, in a folder that exists and takes
///   new files (tried by creating and removing an empty file there);
/// - no output is one of the command's input files, or inside one of its input folders:
///   writing it would destroy or change what the command reads;
/// - no two outputs are the same file.
enum OutputFiles {
    /// One flag and the path it was given (nil: the flag was not given).
    struct Destination {
        var flag: String
        var path: String?
        /// A file name to suggest, such as "grades.csv".
        var example: String
    }

    static func check(_ outputs: [Destination], inputs: [(flag: String, path: String?)] = []) throws {
        var seen: [(flag: String, path: String)] = []
        for output in outputs {
            guard let path = output.path else { continue }
            try validateOutputFile(path, flag: output.flag, example: output.example)
            let folder = (path as NSString).deletingLastPathComponent
            try checkFolderTakesFiles(folder.isEmpty ? "." : folder, flag: output.flag, path: path)
            let resolved = resolvedPath(path)
            for input in inputs {
                guard let inputPath = input.path, !inputPath.isEmpty else { continue }
                let inputResolved = resolvedPath(inputPath)
                if sameFile(path, inputPath) || resolved == inputResolved {
                    throw ValidationError(translated("{$1} `{$2}` is the same file as {$3}, which the command reads: writing it would destroy it; choose another name.",
                                                     with: output.flag, shownPath(path), input.flag))
                }
                if isFolder(inputPath), resolved.hasPrefix(inputResolved + "/") {
                    throw ValidationError(translated("{$1} `{$2}` is inside the folder of {$3}, which the command reads; write it somewhere else.",
                                                     with: output.flag, shownPath(path), input.flag))
                }
            }
            if let earlier = seen.first(where: { $0.path == resolved }) {
                throw ValidationError(translated("{$1} and {$2} name the same file `{$3}`; give each its own.",
                                                 with: earlier.flag, output.flag, shownPath(path)))
            }
            seen.append((output.flag, resolved))
        }
    }

    /// A folder the command writes files into: not empty; if it exists, a folder that takes new
    /// files; if not, one the command can make (its parent exists and takes new files). Only
    /// the last folder is made: a typing mistake higher up is not turned into new folders.
    /// `others` (inputs, and the command's other outputs) must not be a file the command will
    /// write there: `writes` tells, from a file's name, whether it is one.
    static func checkFolder(flag: String, path: String?, example: String, others: [(flag: String, path: String?)] = [],
                            writes: (String) -> Bool = { _ in false }) throws {
        guard let path else { return }
        if path.isEmpty {
            throw ValidationError(translated("{$1} needs a folder name, such as {$2}.", with: flag, "\(flag) \(example)"))
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ValidationError(translated("{$1} `{$2}` is a file; give a folder, for example {$3}.", with: flag, shownPath(path), "\(flag) \(example)"))
            }
            try checkFolderTakesFiles(path, flag: flag, path: path)
        } else {
            let parent = (path as NSString).deletingLastPathComponent
            try checkFolderTakesFiles(parent.isEmpty ? "." : parent, flag: flag, path: path)
        }
        let folder = resolvedPath(path)
        for other in others {
            guard let otherPath = other.path, !otherPath.isEmpty else { continue }
            let resolved = resolvedPath(otherPath)
            if resolved == folder {
                throw ValidationError(translated("{$1} and {$2} name the same file `{$3}`; give each its own.", with: other.flag, flag, shownPath(path)))
            }
            let name = (resolved as NSString).lastPathComponent
            if (resolved as NSString).deletingLastPathComponent == folder && writes(name) {
                throw ValidationError(translated("{$1} `{$2}` would be replaced by a file that {$3} writes into `{$4}`; keep it elsewhere or choose another folder.",
                                                 with: other.flag, shownPath(otherPath), flag, shownPath(path)))
            }
        }
    }

    /// The folder exists, is a folder, and a new file can be made in it.
    static func checkFolderTakesFiles(_ folder: String, flag: String, path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw ValidationError(translated("{$1} `{$2}`: the folder `{$3}` does not exist; create it first or choose another place.",
                                             with: flag, shownPath(path), shownPath(folder)))
        }
        guard isDirectory.boolValue else {
            throw ValidationError(translated("{$1} `{$2}`: `{$3}` is not a folder.", with: flag, shownPath(path), shownPath(folder)))
        }
        let probe = folder + "/.tutor-probe-\(getpid())-\(UUID().uuidString)"
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            let reason = translated(String(cString: strerror(errno)))
            throw ValidationError(translated("{$1} `{$2}`: cannot create files in the folder `{$3}` ({$4}).",
                                             with: flag, shownPath(path), shownPath(folder), reason))
        }
        close(descriptor)
        unlink(probe)
    }

    /// The absolute path with its folder's symbolic links and `..` resolved (the folder must
    /// exist for that; the last name is kept as given).
    static func resolvedPath(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(folder.path, &buffer) != nil else { return url.standardizedFileURL.path }
        let resolvedFolder = String(cString: buffer)
        if isFolder(path), realpath(path, &buffer) != nil { return String(cString: buffer) }
        return (resolvedFolder == "/" ? "" : resolvedFolder) + "/" + url.lastPathComponent
    }

    /// Whether both paths exist and are one file (the same device and inode: also through a
    /// hard or symbolic link).
    static func sameFile(_ first: String, _ second: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(first, &a) == 0, stat(second, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    /// A path as a message shows it: whole up to a long limit (the file's name is at its end),
    /// with control characters escaped.
    static func shownPath(_ path: String) -> String { boundedSummary(path, limit: 400) }

    static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
