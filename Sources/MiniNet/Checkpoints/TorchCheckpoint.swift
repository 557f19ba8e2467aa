import Foundation

/// Reads PyTorch `.pth` state_dict checkpoints (as torchvision distributes its weights)
/// without Python and without running any code from the file.
///
/// A state_dict is an `OrderedDict` from names ("layer1.0.conv1.weight") to tensors, written
/// by `torch.save` in one of two containers:
///
/// - zip (torch ≥ 1.6): `<archive>/data.pkl` is the pickled dict, in which every tensor
///   refers by persistent id `('storage', storage_type, key, location, numel)` to the record
///   `<archive>/data/<key>` holding that storage's raw little-endian bytes. `<archive>` is
///   whatever folder name the writer chose. `<archive>/byteorder` says "little" (or is absent).
/// - legacy (`_use_new_zipfile_serialization=False`, and older torch): five pickles in a row —
///   a magic number, the protocol version 1001, a dict of system facts, the object (persistent
///   ids `('storage', storage_type, key, location, numel, view_metadata)`), and the list of
///   storage keys — followed, for each key in that order, by an 8-byte little-endian element
///   count and the raw elements.
///
/// A tensor is a view of its storage: `_rebuild_tensor_v2(storage, offset, size, stride, …)`
/// means element (i₀, i₁, …) is storage element offset + Σₖ iₖ·stride[k]. `read` gathers each
/// view into a contiguous row-major `Tensor`, converting every element type to Float32.
public enum TorchCheckpoint {
    /// The largest tensor accepted (`CheckpointLimits.maximumTensorElements`). A view with zero
    /// strides could otherwise claim billions of elements from a few bytes of storage.
    public static let maximumTensorElementCount = CheckpointLimits.maximumTensorElements

    /// Reads a state_dict: its (name, tensor) entries in file order. A training checkpoint whose
    /// top level is a dict holding the state_dict under "state_dict" or "model" is accepted too.
    /// Names are kept as stored (a "module." prefix from DataParallel stays).
    ///
    /// float16, bfloat16, float64, int32 and int64 tensors are converted to Float32 (int64 ones
    /// are counters such as BatchNorm's `num_batches_tracked`). Only a regular file of at most
    /// `CheckpointLimits.maximumFileBytes` is read.
    ///
    /// A zip checkpoint is not read whole: first its directory and its pickle, then each
    /// storage record straight into the Float32 array it becomes (see `ByteSource`).
    public static func read(from path: String) throws -> [(name: String, tensor: Tensor)] {
        try read(OpenWeightsFile(path: path), describedAs: path)
    }

    /// `read(from:)` on the bytes of a file already in memory; `path` names it in messages.
    static func read(bytes: [UInt8], describedAs path: String) throws -> [(name: String, tensor: Tensor)] {
        try read(bytes as ByteSource, describedAs: path)
    }

    /// `read(from:)` on the bytes of `source`; `path` names it in messages.
    static func read(_ source: ByteSource, describedAs path: String) throws -> [(name: String, tensor: Tensor)] {
        do {
            let head = try source.bytes(at: 0, count: Swift.min(4, source.count), orElse: Problem.changedWhileReading)
            if head == [0x50, 0x4b, 0x03, 0x04] {  // "PK\3\4": a zip archive
                return try readZip(source)
            }
            if head.first == 0x80 {  // PROTO: a pickle stream, followed by the storages
                return try readLegacy(source as? [UInt8] ?? source.bytes(at: 0, count: source.count, orElse: Problem.changedWhileReading))
            }
            throw Problem("not a PyTorch checkpoint (neither a zip archive nor a pickle stream)")
        } catch let problem as Problem {
            throw MiniNetError.file(path, problem.message)
        }
    }

    /// A reason to reject the file; `read` prefixes it with the path.
    struct Problem: Error {
        var message: String
        init(_ message: String) { self.message = message }

        /// Every range is checked against the file's size before it is read, so a short read
        /// means the file changed (or the disk failed) while we were reading it.
        static let changedWhileReading = Problem("could not be read to the end (did it change while being read?)")
    }

    // MARK: Zip container

    static func readZip(_ source: ByteSource) throws -> [(name: String, tensor: Tensor)] {
        let archive = try StoredZipArchive(source: source)
        // The pickle is "<archive>/data.pkl" for a folder name chosen by the writer.
        let pickleEntry = archive.entries.first { entry in
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && !parts[0].isEmpty && parts[1] == "data.pkl"
        }
        guard let pickleEntry else {
            throw Problem("zip archive has no <archive>/data.pkl, so it is not a PyTorch checkpoint")
        }
        let folder = String(pickleEntry.name.dropLast("data.pkl".count))  // ends with "/"

        if let byteOrderEntry = archive[folder + "byteorder"] {
            let byteOrder = try contents(of: byteOrderEntry, in: source)
            guard byteOrder.elementsEqual("little".utf8) else {
                throw Problem("storages are \(String(decoding: byteOrder.prefix(16), as: UTF8.self)) endian; only little endian is supported")
            }
        }

        let pickle = try contents(of: pickleEntry, in: source)
        let table = StorageTable()
        let (object, _) = try unpickle(pickle, from: 0, what: pickleEntry.name, persistentLoad: table.load)

        var storages: [String: [Float]] = [:]
        for (key, storage) in table.storages {
            let recordName = folder + "data/" + key
            guard let record = archive[recordName] else {
                throw Problem("storage record \(printable(recordName)) is missing")
            }
            storages[key] = try readStorage(storage, from: record, in: source)
        }
        return try gatherTensors(stateDictionary(object), storages)
    }

    /// The values of a storage, from its record, after checking the record's CRC-32 (over all
    /// its bytes, also any after those the storage uses).
    ///
    /// float32 elements on a little-endian machine (the usual case) are read straight from the
    /// source into the array that keeps them: no copy of the file in between, no conversion,
    /// no zero-filling first. Other element types are read as bytes and converted (`decode`).
    static func readStorage(_ storage: StorageReference, from record: StoredZipArchive.Entry,
                            in source: ByteSource) throws -> [Float] {
        let byteCount = try storageByteCount(storage)
        let start = record.dataRange.lowerBound
        guard record.dataRange.count >= byteCount else {
            _ = try contents(of: record, in: source)  // a corrupt record is named as such first
            throw Problem("storage record \(printable(record.name)) holds \(record.dataRange.count) bytes, but its tensors need \(byteCount)")
        }
        var crc: UInt32 = 0
        let values: [Float]
        if storage.elementType == .float32 && floatsAreStoredLittleEndian {
            // byteCount = 4·elementCount, so this many floats fill exactly the bytes needed.
            // A piece at a time, each one checked while it is still in the processor's cache
            // (one pass over memory instead of two).
            values = try [Float](unsafeUninitializedCapacity: storage.elementCount) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: byteCount)
                var done = 0
                while done < byteCount {
                    let piece = UnsafeMutableRawBufferPointer(rebasing: raw[done..<Swift.min(byteCount, done + crcPieceBytes)])
                    try source.read(at: start + done, into: piece)
                    crc = StoredZipArchive.crc32(UnsafeRawBufferPointer(piece), after: crc)
                    done += piece.count
                }
                initialized = storage.elementCount
            }
        } else {
            let raw = try source.bytes(at: start, count: byteCount, orElse: Problem.changedWhileReading)
            values = raw.withUnsafeBytes { bytes in
                crc = StoredZipArchive.crc32(bytes)
                return decode(bytes, as: storage.elementType)
            }
        }
        // Bytes of the record past those the storage uses: read a piece at a time, for the CRC only.
        var position = start + byteCount
        while position < record.dataRange.upperBound {
            let piece = try source.bytes(at: position, count: Swift.min(1 << 20, record.dataRange.upperBound - position),
                                         orElse: Problem.changedWhileReading)
            crc = piece.withUnsafeBytes { StoredZipArchive.crc32($0, after: crc) }
            position += piece.count
        }
        try checkCRC32(crc, of: record)
        return values
    }

    /// How much of a storage is read before its CRC-32 is advanced over it: small enough to
    /// stay in a core's level-2 cache, large enough that the system calls cost nothing.
    static let crcPieceBytes = 256 << 10

    /// The bytes of a zip entry, after checking its CRC-32.
    static func contents(of entry: StoredZipArchive.Entry, in source: ByteSource) throws -> [UInt8] {
        let data = try source.bytes(at: entry.dataRange.lowerBound, count: entry.dataRange.count,
                                    orElse: Problem("zip entry \(printable(entry.name)) runs past the end of the file (truncated?)"))
        try checkCRC32(data.withUnsafeBytes { StoredZipArchive.crc32($0) }, of: entry)
        return data
    }

    /// `contents(of:in:)` on a byte array (the fuzz harness of the zip reader calls it).
    static func contents(of entry: StoredZipArchive.Entry, in bytes: [UInt8]) throws -> [UInt8] {
        try contents(of: entry, in: bytes as ByteSource)
    }

    /// Refuses an entry whose bytes do not have the CRC-32 its directory record states (0 means
    /// the writer skipped it, which torch can be told to do).
    static func checkCRC32(_ crc: UInt32, of entry: StoredZipArchive.Entry) throws {
        guard entry.crc32 == 0 || crc == entry.crc32 else {
            throw Problem("zip entry \(printable(entry.name)) is corrupt (CRC-32 mismatch)")
        }
    }

    // MARK: Legacy container

    /// The first pickle of a legacy file: 0x1950a86a20f9469cfc6c, as LONG1's little-endian bytes.
    static let legacyMagicNumber: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
    static let legacyProtocolVersion = 1001

    static func readLegacy(_ bytes: [UInt8]) throws -> [(name: String, tensor: Tensor)] {
        var offset = 0
        let noStorages: (PickleValue) throws -> PickleValue = { _ in
            throw UnpicklingError.malformed(0, "unexpected persistent id")
        }

        let magic: PickleValue
        (magic, offset) = try unpickle(bytes, from: offset, what: "the magic-number pickle", persistentLoad: noStorages)
        guard case let .largeInteger(magicBytes) = magic, magicBytes == legacyMagicNumber else {
            throw Problem("not a PyTorch checkpoint (a pickle, but without torch's magic number)")
        }
        let version: PickleValue
        (version, offset) = try unpickle(bytes, from: offset, what: "the version pickle", persistentLoad: noStorages)
        guard case .integer(legacyProtocolVersion) = version else {
            throw Problem("legacy checkpoint has protocol version \(version.summary()), expected \(legacyProtocolVersion)")
        }
        let systemInformation: PickleValue
        (systemInformation, offset) = try unpickle(bytes, from: offset, what: "the system-information pickle",
                                                   persistentLoad: noStorages)
        if case let .dictionary(facts) = systemInformation, case .bool(false)? = facts.value(forKey: "little_endian") {
            throw Problem("checkpoint was written on a big-endian machine; only little endian is supported")
        }

        let table = StorageTable()
        let object: PickleValue
        (object, offset) = try unpickle(bytes, from: offset, what: "the object pickle", persistentLoad: table.load)
        let keyList: PickleValue
        (keyList, offset) = try unpickle(bytes, from: offset, what: "the storage-key pickle", persistentLoad: noStorages)
        guard case let .list(keys) = keyList else {
            throw Problem("legacy checkpoint's storage-key pickle holds \(keyList.kindName), not a list")
        }

        // The raw storages follow, in the order of the key list.
        var storages: [String: [Float]] = [:]
        for keyValue in keys.items {
            guard case let .string(rawKey) = keyValue else { throw Problem("storage key list holds \(keyValue.kindName)") }
            let key = printable(rawKey)
            guard let storage = table.storage(forKey: rawKey) else {
                throw Problem("storage key '\(key)' is listed but no tensor uses it")
            }
            guard bytes.count - offset >= 8 else { throw Problem("storage '\(key)' is missing (file truncated?)") }
            let countBytes = bytes[offset..<(offset + 8)]
            let count = countBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            offset += 8
            guard count == UInt64(storage.elementCount) else {
                throw Problem("storage '\(key)' holds \(count) elements, but the pickle says \(storage.elementCount)")
            }
            let byteCount = try storageByteCount(storage)
            guard bytes.count - offset >= byteCount else { throw Problem("storage '\(key)' is truncated") }
            storages[rawKey] = bytes[offset..<(offset + byteCount)].withUnsafeBytes { decode($0, as: storage.elementType) }
            offset += byteCount
        }
        return try gatherTensors(stateDictionary(object), storages)
    }

    // MARK: Pickles and storages

    /// Runs the restricted unpickler on the pickle starting at `start`, turning its errors into
    /// one-line problems. `what` names the pickle in messages.
    static func unpickle(_ bytes: [UInt8], from start: Int, what: String,
                         persistentLoad: @escaping (PickleValue) throws -> PickleValue) throws -> (PickleValue, Int) {
        var unpickler = Unpickler(bytes: bytes, startingAt: start, persistentLoad: persistentLoad)
        do {
            let (value, end) = try unpickler.load()
            return (value, end)
        } catch let UnpicklingError.forbiddenGlobal(name) {
            throw Problem("refusing to load: the pickle asks for global '\(name)', which a state_dict never needs")
        } catch let UnpicklingError.malformed(offset, problem) {
            throw Problem("malformed pickle in \(what) at byte \(offset - start): \(problem)")
        }
    }

    /// The storages the object pickle refers to, in first-use order.
    final class StorageTable {
        var storages: [(key: String, value: StorageReference)] = []
        private var indexOfKey: [String: Int] = [:]

        func storage(forKey key: String) -> StorageReference? {
            indexOfKey[key].map { storages[$0].value }
        }

        /// The persistent-id loader: `('storage', storage_type, key, location, numel)`, plus a
        /// sixth item `view_metadata` in legacy files, which must be None (storage views are a
        /// pre-0.4 feature).
        func load(_ identifier: PickleValue) throws -> PickleValue {
            func reject(_ problem: String) -> UnpicklingError { .malformed(0, problem) }
            guard case let .tuple(items, _) = identifier, items.count == 5 || items.count == 6,
                  case .string("storage") = items[0] else {
                throw reject("persistent id is not ('storage', type, key, location, numel)")
            }
            guard case let .global(.storageType(elementType)) = items[1] else {
                throw reject("persistent id names \(items[1].kindName), not a storage type")
            }
            guard case let .string(rawKey) = items[2], case .string = items[3] else {
                throw reject("persistent id's key and location must be strings")
            }
            let key = printable(rawKey)
            guard case let .integer(elementCount) = items[4], elementCount >= 0 else {
                throw reject("storage '\(key)' has no valid element count")
            }
            if items.count == 6, case .none = items[5] {} else if items.count == 6 {
                throw reject("storage '\(key)' is a view of another storage, which is not supported")
            }
            let storage = StorageReference(key: rawKey, elementType: elementType, elementCount: elementCount)
            if let index = indexOfKey[rawKey] {
                guard storages[index].value == storage else {
                    throw reject("storage '\(key)' is described twice, differently")
                }
            } else {
                indexOfKey[rawKey] = storages.count
                storages.append((rawKey, storage))
            }
            return .storage(storage)
        }
    }

    static func storageByteCount(_ storage: StorageReference) throws -> Int {
        let (byteCount, overflow) = storage.elementCount.multipliedReportingOverflow(by: storage.elementType.byteCount)
        guard !overflow else { throw Problem("storage '\(printable(storage.key))' claims \(storage.elementCount) elements") }
        return byteCount
    }

    /// The (name, tensor view) entries of the state_dict inside the unpickled object.
    static func stateDictionary(_ object: PickleValue) throws -> [(name: String, view: TensorReference)] {
        guard case var .dictionary(dictionary) = object else {
            throw Problem("the checkpoint holds \(object.kindName), not a state_dict")
        }
        for wrapperKey in ["state_dict", "model"] {
            if case let .dictionary(inner)? = dictionary.value(forKey: wrapperKey) {
                dictionary = inner
                break
            }
        }
        return try dictionary.entries.map { key, value in
            guard case let .string(name) = key else { throw Problem("state_dict has a key that is not a string") }
            guard case let .tensor(view) = value else {
                throw Problem("state_dict entry '\(printable(name))' is \(value.kindName), not a tensor")
            }
            return (name, view)
        }
    }

    /// Gathers every view, keeping the elements of all tensors together within
    /// `CheckpointLimits.maximumTotalElements` (views may share and repeat storage elements).
    static func gatherTensors(_ views: [(name: String, view: TensorReference)],
                              _ storages: [String: [Float]]) throws -> [(name: String, tensor: Tensor)] {
        // First the counts alone, so that nothing is allocated for a file over the limit.
        var total = 0
        for (name, view) in views {
            total += try elementCount(of: view, name: name)  // each ≤ 2²⁶: no overflow
            guard total <= CheckpointLimits.maximumTotalElements else {
                throw Problem("tensor '\(printable(name))' takes the checkpoint past \(CheckpointLimits.maximumTotalElements) elements in all (limit maximumTotalElements)")
            }
        }
        return try views.map { name, view in
            guard let storage = storages[view.storage.key] else {
                throw Problem("storage '\(printable(view.storage.key))' of tensor '\(printable(name))' is missing")
            }
            return (name, try gather(view, from: storage, name: name))
        }
    }

    // MARK: Views and element types

    /// The number of elements of a view, after checking its size, stride and offset are
    /// non-negative and match, and the count is within `maximumTensorElementCount`
    /// (overflow-checked: a size of 2⁶² must be refused, not wrap around).
    static func elementCount(of view: TensorReference, name: String) throws -> Int {
        let shape = view.shape
        func problem(_ text: String) -> Problem { Problem("tensor '\(printable(name))': \(text)") }
        guard shape.count == view.strides.count, shape.count <= CheckpointLimits.maximumRank else {
            throw problem("size \(shape.prefix(9)) and stride \(view.strides.prefix(9)) do not match, or have more than \(CheckpointLimits.maximumRank) axes")
        }
        guard shape.allSatisfy({ $0 >= 0 }), view.strides.allSatisfy({ $0 >= 0 }), view.storageOffset >= 0 else {
            throw problem("negative size, stride or offset")
        }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maximumTensorElementCount else {
                throw problem("size \(shape) exceeds \(maximumTensorElementCount) elements (limit maximumTensorElements)")
            }
            count = product
        }
        return count
    }

    /// Copies a strided view into a contiguous row-major tensor:
    ///     result[i₀, i₁, …] = storage[offset + Σₖ iₖ·stride[k]]
    /// after checking (`elementCount`) its element count, and that the largest index reached,
    /// offset + Σₖ (size[k] − 1)·stride[k], computed with overflow checks, lies inside the storage.
    static func gather(_ view: TensorReference, from storage: [Float], name: String) throws -> Tensor {
        let shape = view.shape
        func problem(_ text: String) -> Problem { Problem("tensor '\(printable(name))': \(text)") }
        let count = try elementCount(of: view, name: name)
        guard count > 0 else { return Tensor(shape: shape, data: []) }
        // An axis of size 1 is never stepped along, so its stride (which may be anything) is
        // set to 0: the walk below then never adds it.
        let strides = zip(shape, view.strides).map { size, stride in size == 1 ? 0 : stride }

        var lastIndex = view.storageOffset
        for (size, stride) in zip(shape, strides) {
            let (reach, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflow2) = lastIndex.addingReportingOverflow(reach)
            guard !overflow, !overflow2 else { throw problem("stride \(view.strides) is out of range") }
            lastIndex = sum
        }
        guard lastIndex < storage.count else {
            throw problem("size \(shape), stride \(view.strides) and offset \(view.storageOffset) reach element \(lastIndex) "
                          + "of a storage of \(storage.count)")
        }
        // From here on no sum can overflow: every position lies in 0...lastIndex, and
        // size·stride = (size − 1)·stride + stride ≤ 2·lastIndex for each axis.

        // A whole storage, in order (the usual case: torch.save gives each tensor its own
        // storage): the tensor shares the storage's array instead of copying it.
        if view.storageOffset == 0, count == storage.count, strides == contiguousStrides(shape).enumerated().map({ shape[$0] == 1 ? 0 : $1 }) {
            return Tensor(shape: shape, data: storage)
        }
        // Contiguous: one slice.
        if strides == contiguousStrides(shape).enumerated().map({ shape[$0] == 1 ? 0 : $1 }) {
            return Tensor(shape: shape, data: Array(storage[view.storageOffset..<(view.storageOffset + count)]))
        }
        // Strided: walk the indices like an odometer, the last axis turning fastest.
        var data = [Float]()
        data.reserveCapacity(count)
        var index = [Int](repeating: 0, count: shape.count)
        var position = view.storageOffset
        for _ in 0..<count {
            data.append(storage[position])
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                position += strides[axis]
                if index[axis] < shape[axis] { break }
                position -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: shape, data: data)
    }

    /// Row-major strides: [C·H·W, H·W, W, 1] for [N, C, H, W].
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running &*= shape[axis]
        }
        return strides
    }

    /// Raw little-endian storage bytes as Float32 values.
    static func decode(_ raw: UnsafeRawBufferPointer, as type: StorageElementType) -> [Float] {
        let count = raw.count / type.byteCount
        if type == .float32 && floatsAreStoredLittleEndian {  // the same bytes: one copy
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[..<(4 * count)])) }
                initialized = count
            }
        }
        var values = [Float](repeating: 0, count: count)
        for index in 0..<count {
            let at = index * type.byteCount
            switch type {
            case .float32:
                values[index] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
            case .float16:
                values[index] = floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
            case .bfloat16:
                // bfloat16 is the top half of a float32: same sign and exponent, 7 mantissa bits.
                let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))
                values[index] = Float(bitPattern: UInt32(bits) << 16)
            case .float64:
                values[index] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
            case .int64:
                values[index] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self)))
            case .int32:
                values[index] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)))
            }
        }
        return values
    }

    /// IEEE half precision (1 sign, 5 exponent, 10 mantissa bits, bias 15) to Float32
    /// (1, 8, 23, bias 127):
    ///     normal     (−1)ˢ · 2^(e−15) · (1 + m/1024)  →  exponent e − 15 + 127, mantissa m·2¹³
    ///     subnormal  (−1)ˢ · 2^(−14) · (m/1024) = (−1)ˢ · m · 2^(−24)
    ///     e = 31     infinity (m = 0) or NaN
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = UInt32(bits >> 10) & 0x1f
        let mantissa = UInt32(bits) & 0x3ff
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1f:
            return Float(bitPattern: sign | 0x7f80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | (exponent + 127 - 15) << 23 | mantissa << 13)
        }
    }
}
