import Foundation

/// Where the bytes of a weights file come from: the open file itself, read piece by piece, or
/// bytes already in memory (tests, and the fuzz harnesses, which hand the readers a byte array).
///
/// Why read a file in pieces rather than whole: a ResNet-34 checkpoint is 87 MB, and reading it
/// whole means holding it twice, once as the file's bytes and once as the Float32 tensors made
/// from them. Reading each tensor's bytes straight into the array that becomes the tensor holds
/// them once, and copies them once (from the kernel's page cache). The readers check every
/// offset and size against `count` before asking for bytes, exactly as they did on a byte array.
protocol ByteSource {
    /// The number of bytes.
    var count: Int { get }
    /// Copies the `buffer.count` bytes starting at `offset` into `buffer`. The caller has
    /// checked that `offset ≥ 0` and `offset + buffer.count ≤ count`.
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws
}

extension ByteSource {
    /// The `count` bytes starting at `offset`, after checking they lie inside the source;
    /// `problem` is thrown when they do not.
    func bytes(at offset: Int, count byteCount: Int, orElse problem: @autoclosure () -> Error) throws -> [UInt8] {
        guard offset >= 0, byteCount >= 0, offset <= count, byteCount <= count - offset else { throw problem() }
        return try [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            try read(at: offset, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = byteCount
        }
    }
}

extension Array: ByteSource where Element == UInt8 {
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(offset >= 0 && buffer.count <= count - offset, "read past the end of the bytes")
        guard let destination = buffer.baseAddress, buffer.count > 0 else { return }
        withUnsafeBytes { source in
            destination.copyMemory(from: source.baseAddress! + offset, byteCount: buffer.count)
        }
    }
}

extension Data: ByteSource {
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(offset >= 0 && buffer.count <= count - offset, "read past the end of the bytes")
        guard buffer.count > 0 else { return }
        let start = startIndex + offset
        _ = copyBytes(to: buffer, from: start..<(start + buffer.count))
    }
}

/// A weights file, open for reading: a regular file of at most `CheckpointLimits.maximumFileBytes`,
/// read with pread(2) at the offsets the readers ask for. The descriptor closes with the object.
final class OpenWeightsFile: ByteSource {
    let path: String
    /// The size when the file was opened; the readers check every range against it.
    let count: Int
    private let descriptor: Int32

    /// Opens `path` after `CheckpointLimits.checkWeightsFile` (which looks without opening, so
    /// that a FIFO is never opened and waited on). O_NONBLOCK: if the path was swapped for a FIFO
    /// in between, opening it returns at once, and fstat(2) on what was opened refuses it.
    init(path: String) throws {
        try CheckpointLimits.checkWeightsFile(path)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw MiniNetError.file(path, errno == ENOENT ? "no such file" : "cannot be read (\(String(cString: strerror(errno))))")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw MiniNetError.file(path, "is not a regular file")
        }
        guard Int(status.st_size) <= CheckpointLimits.maximumFileBytes else {
            close(descriptor)
            throw MiniNetError.file(path, "is \(status.st_size) bytes, over the limit of \(CheckpointLimits.maximumFileBytes) bytes (\(CheckpointLimits.maximumFileBytes >> 30) GiB) for a weights file (limit maximumFileBytes)")
        }
        (self.path, self.count, self.descriptor) = (path, Int(status.st_size), descriptor)
    }

    deinit { close(descriptor) }

    /// pread(2) until the buffer is full: the kernel may return fewer bytes than asked (at most
    /// about 2 GiB per call on Linux, or when a signal arrives). A read that finds the end of
    /// the file early means the file shrank after it was opened.
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(offset >= 0 && buffer.count <= count - offset, "read past the end of the file")
        guard let start = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let result = pread(descriptor, start + done, buffer.count - done, off_t(offset + done))
            if result < 0 {
                if errno == EINTR { continue }
                throw MiniNetError.file(path, "cannot be read (\(String(cString: strerror(errno))))")
            }
            guard result > 0 else {
                throw MiniNetError.file(path, "could not be read to the end (did it change while being read?)")
            }
            done += result
        }
    }
}

/// Whether this machine stores a Float32 in memory as the little-endian bytes files hold, so
/// that a file's float32 bytes can be read straight into a [Float] (x86-64 and ARM64: yes).
let floatsAreStoredLittleEndian: Bool = {
    #if _endian(little)
    return true
    #else
    return false
    #endif
}()
