import Foundation

// File helpers shared by MiniNet's readers and writers.
//
// Writing: a reader that opens the destination while we write it (or after a crash) must see
// either the old file or the complete new one, never half of it. So we write a temporary file
// in the same directory (rename is only atomic within one file system) and then rename(2) it
// over the destination in one step.

/// Writes `data` to `path` atomically: the bytes go to a temporary file beside the
/// destination, which is then renamed over it. On any failure the temporary file is removed,
/// the destination is left as it was, and `MiniNetError.file(path, reason)` is thrown.
///
/// `permissions` are the new file's mode bits from the start, less the umask, which can only
/// remove bits (0o600 for a secret: it is never readable by others, not even as a temporary).
/// With `replacing: false` an existing `path` is an error ("already exists"): the finished
/// temporary is hard-linked to `path`, which fails when the name exists, instead of renamed
/// over it, so no check-then-write race can clobber it.
public func writeFileAtomically(_ data: Data, to path: String, permissions: mode_t = 0o644, replacing: Bool = true) throws {
    let temporary = try stageFile(data, for: path, permissions: permissions)
    func fail(_ reason: String) -> MiniNetError {
        unlink(temporary)
        return MiniNetError.file(path, reason)
    }
    if !replacing {
        guard link(temporary, path) == 0 else {
            throw fail(errno == EEXIST ? "already exists" : "cannot create file (\(describeErrno()))")
        }
        unlink(temporary)
        return
    }
    if rename(temporary, path) != 0 {
        throw fail("cannot replace file (\(describeErrno()))")
    }
}

/// Writes several files as one: every file is written in full to its temporary first, and only
/// when all are on disk are they renamed over their destinations. A failure while writing (a
/// full disk, a folder that cannot be written) removes the temporaries and leaves every
/// destination as it was, so a reader never finds half of an old set beside half of a new one.
public func writeFilesTogether(_ files: [(path: String, data: Data)], permissions: mode_t = 0o644) throws {
    var staged: [(temporary: String, path: String)] = []
    do {
        for file in files { staged.append((try stageFile(file.data, for: file.path, permissions: permissions), file.path)) }
    } catch {
        for file in staged { unlink(file.temporary) }
        throw error
    }
    for (index, file) in staged.enumerated() where rename(file.temporary, file.path) != 0 {
        let reason = describeErrno()
        for rest in staged[index...] { unlink(rest.temporary) }
        throw MiniNetError.file(file.path, "cannot replace file (\(reason))")
    }
}

/// Writes `data` to a new hidden file beside `path` and flushes it to disk; returns its name.
private func stageFile(_ data: Data, for path: String, permissions: mode_t) throws -> String {
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    // A hidden name that no other writer (another process, or another call in this one) picks.
    let temporary = directory + "/." + url.lastPathComponent + ".partial-\(getpid())-\(UUID().uuidString)"

    func fail(_ reason: String) -> MiniNetError {
        unlink(temporary)
        return MiniNetError.file(path, reason)
    }

    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, permissions)
    guard descriptor >= 0 else {
        throw MiniNetError.file(path, "cannot create file (\(describeErrno()))")
    }
    var written = 0
    let writeError: String? = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> String? in
        while written < bytes.count {
            let result = Foundation.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                return describeErrno()
            }
            written += result
        }
        return nil
    }
    if let writeError {
        close(descriptor)
        throw fail("cannot write file (\(writeError))")
    }
    // fsync so that after the rename the new name never points at data still only in memory.
    if fsync(descriptor) != 0 {
        let reason = describeErrno()
        close(descriptor)
        throw fail("cannot write file (\(reason))")
    }
    if close(descriptor) != 0 {
        throw fail("cannot write file (\(describeErrno()))")
    }
    return temporary
}

/// Checks that a path the user gave names a file we may read, before anything opens it.
///
/// Opening a FIFO blocks until some other program writes into it, a device such as
/// /dev/zero never ends, and a directory has no bytes to read. So readers call
/// `RegularFile.check` first: it only asks the file system (stat(2), which follows
/// symbolic links, so a link to a regular file is fine) and never opens the path.
public enum RegularFile {
    /// Returns the file's size in bytes, or throws one line naming `path` and what is wrong:
    /// missing, not a regular file (directory, FIFO, socket, device), or larger than
    /// `maximumBytes`.
    @discardableResult
    public static func check(_ path: String, maximumBytes: Int = .max) throws -> Int {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw MiniNetError.file(path, "no such file") }
            throw MiniNetError.file(path, "cannot be read (\(describeErrno()))")
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw MiniNetError.file(path, "is a directory, not a file")
        case S_IFIFO: throw MiniNetError.file(path, "is a pipe (FIFO), not a regular file; save the data to a file first")
        case S_IFSOCK: throw MiniNetError.file(path, "is a socket, not a regular file")
        default: throw MiniNetError.file(path, "is a device, not a regular file")
        }
        let size = Int(status.st_size)
        guard size <= maximumBytes else {
            throw MiniNetError.file(path, "is \(size) bytes, more than the limit of \(maximumBytes) bytes for this kind of file")
        }
        return size
    }
}

/// Reads a whole regular file of at most `maximumBytes` (2 GiB by default), turning every
/// failure into a one-line `MiniNetError.file`.
func readFileData(at path: String, maximumBytes: Int = 1 << 31) throws -> Data {
    try RegularFile.check(path, maximumBytes: maximumBytes)
    guard let data = FileManager.default.contents(atPath: path) else {
        throw MiniNetError.file(path, "cannot read file (permission denied or I/O error)")
    }
    // The file may have grown since the check; the limit holds for what we actually read.
    guard data.count <= maximumBytes else {
        throw MiniNetError.file(path, "is more than the limit of \(maximumBytes) bytes for this kind of file")
    }
    return data
}

/// The C library's text for the current `errno`, e.g. "No such file or directory".
private func describeErrno() -> String {
    String(cString: strerror(errno))
}
