/// A restricted reader for Python pickles, just large enough for PyTorch state_dicts.
///
/// A pickle is a small program for a stack machine: each opcode pushes a value, pops values
/// to build a container, stores a value in the "memo" (a table of shared references) or
/// fetches one back. Python's own unpickler can import any module and call any function the
/// pickle names (GLOBAL + REDUCE), which is why loading an untrusted `.pth` with `pickle` can
/// run arbitrary code. This one executes nothing: it knows a short list of names
/// (`AllowedGlobal`), refuses every other one, and "calls" an allowed name only by building a
/// plain description of the result (an empty ordered dictionary, a tensor view of a storage).
///
/// Every length, index and count read from the input is checked against what is left of the
/// input before anything is allocated, and the nesting, the memo, the stack and the number of
/// opcodes are bounded (`CheckpointLimits`), so a hostile pickle can neither crash, nor
/// exhaust memory, nor run for long.

/// A Python function or class the unpickler agrees to name.
enum AllowedGlobal: Equatable {
    /// `collections.OrderedDict`: the type of every state_dict.
    case orderedDictionary
    /// `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
    /// backward_hooks[, metadata])`: a tensor as a strided view of a storage.
    case rebuildTensor
    /// `torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)`: an
    /// `nn.Parameter` wrapping a tensor (appears when parameters, not plain tensors, were saved).
    case rebuildParameter
    /// `torch.FloatStorage` and friends: names the element type of a storage.
    case storageType(StorageElementType)

    /// The pickle's "module name" pairs this reader understands.
    static func named(module: String, name: String) -> AllowedGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDictionary
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch", "FloatStorage"): return .storageType(.float32)
        case ("torch", "HalfStorage"): return .storageType(.float16)
        case ("torch", "BFloat16Storage"): return .storageType(.bfloat16)
        case ("torch", "DoubleStorage"): return .storageType(.float64)
        case ("torch", "LongStorage"): return .storageType(.int64)
        case ("torch", "IntStorage"): return .storageType(.int32)
        default: return nil
        }
    }
}

/// The element types of the storages MiniNet can read, with their size in bytes.
enum StorageElementType: String, Equatable {
    case float32, float16, bfloat16, float64, int64, int32

    var byteCount: Int {
        switch self {
        case .float16, .bfloat16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }
}

/// A storage a pickle refers to by persistent id: a flat run of `elementCount` elements
/// kept outside the pickle (a zip record, or raw bytes after the pickles of a legacy file).
struct StorageReference: Equatable {
    var key: String
    var elementType: StorageElementType
    var elementCount: Int
}

/// A tensor as PyTorch saves it: a view of a storage.
///
/// Element (i₀, i₁, …) of the view is storage element
///     storageOffset + Σₖ iₖ · strides[k]
/// so a transposed or sliced tensor is saved as its whole storage plus these numbers.
struct TensorReference: Equatable {
    var storage: StorageReference
    var storageOffset: Int
    var shape: [Int]
    var strides: [Int]
}

/// A Python list or dict being filled by the pickle. Reference types, because the memo and the
/// stack share them while APPEND/SETITEM opcodes fill them in.
final class PickleList {
    var items: [PickleValue] = []
    /// 1 + the deepest nesting among the items.
    var depth = 1
    /// Set once the list is placed inside another container; after that it may not change,
    /// which rules out cycles and keeps `depth` exact.
    var isFrozen = false
}

final class PickleDictionary {
    /// Entries in insertion order (an `OrderedDict`'s order is the state_dict's order).
    var entries: [(key: PickleValue, value: PickleValue)] = []
    var indexOfKey: [PickleKey: Int] = [:]
    var depth = 1
    var isFrozen = false

    func value(forKey key: String) -> PickleValue? {
        indexOfKey[.string(key)].map { entries[$0].value }
    }
}

/// The dictionary keys this reader accepts (state_dicts use strings; checkpoints sometimes ints).
enum PickleKey: Hashable {
    case string(String)
    case integer(Int)
}

/// A value built by the unpickler.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case integer(Int)
    /// An integer too large for `Int` (LONG1), as little-endian two's-complement bytes.
    case largeInteger([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue], depth: Int)
    case list(PickleList)
    case dictionary(PickleDictionary)
    case global(AllowedGlobal)
    case storage(StorageReference)
    case tensor(TensorReference)

    /// How many containers deep the value reaches (scalars are 0).
    var depth: Int {
        switch self {
        case let .tuple(_, depth): return depth
        case let .list(list): return list.depth
        case let .dictionary(dictionary): return dictionary.depth
        default: return 0
        }
    }

    /// A bounded description for error messages: at most `maximumLength` characters, and
    /// containers shown two levels deep. A pickle can share one tuple many times over
    /// (t₁ = (t₀, t₀), t₂ = (t₁, t₁), …), so printing the whole value could take 2¹⁰⁰ steps.
    func summary(maximumLength: Int = 80) -> String {
        let text = summary(levels: 2, budget: maximumLength + 1)
        return text.count <= maximumLength ? text : String(text.prefix(maximumLength - 1)) + "…"
    }

    /// `summary` helper: stops writing once `budget` characters are reached.
    private func summary(levels: Int, budget: Int) -> String {
        func items(_ values: [PickleValue], _ open: String, _ close: String) -> String {
            guard levels > 0 else { return open + "…" + close }
            var text = open
            for (index, value) in values.enumerated() {
                if index > 0 { text += ", " }
                if text.count >= budget { return text + "…" }
                text += value.summary(levels: levels - 1, budget: budget - text.count)
            }
            return text + close
        }
        switch self {
        case .none: return "None"
        case let .bool(value): return value ? "True" : "False"
        case let .integer(value): return String(value)
        case let .largeInteger(bytes): return "an integer of \(bytes.count) bytes"
        case let .float(value): return String(value)
        case let .string(text): return "'" + printable(text, maximumLength: Swift.max(budget, 2)) + "'"
        case let .bytes(bytes): return "\(bytes.count) bytes"
        case let .tuple(values, _): return items(values, "(", ")")
        case let .list(list): return items(list.items, "[", "]")
        case let .dictionary(dictionary): return "a dict of \(dictionary.entries.count) entries"
        case .global: return "a class or function"
        case let .storage(storage): return "storage '\(printable(storage.key, maximumLength: 20))'"
        case let .tensor(tensor): return "a tensor of size \(tensor.shape.prefix(8))"
        }
    }

    /// A short name of the value's kind for error messages.
    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .integer, .largeInteger: return "an integer"
        case .float: return "a float"
        case .string: return "a string"
        case .bytes: return "bytes"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dictionary: return "a dict"
        case .global: return "a class or function"
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        }
    }
}

/// Why unpickling stopped.
enum UnpicklingError: Error {
    /// The pickle names a global outside `AllowedGlobal`: (dotted name).
    case forbiddenGlobal(String)
    /// The bytes are not a pickle this reader accepts: (byte offset, problem).
    case malformed(Int, String)
}

/// Runs one pickle program and returns the value it leaves on the stack at STOP.
struct Unpickler {
    /// The deepest container nesting accepted (see `CheckpointLimits`).
    static let maximumNesting = CheckpointLimits.maximumPickleNesting

    /// The bounds on the memo, the stack and the opcodes run; `standard` is the one used for
    /// files (tests pass smaller ones to reach them quickly).
    struct Limits {
        var memoEntries = CheckpointLimits.maximumPickleMemoEntries
        var stackSize = CheckpointLimits.maximumPickleStackSize
        var operations = CheckpointLimits.maximumPickleOperations
        static let standard = Limits()
    }
    private let limits: Limits

    private let bytes: [UInt8]
    private var position: Int
    /// Turns a persistent id (BINPERSID) into a value; for torch, a storage reference.
    private let persistentLoad: (PickleValue) throws -> PickleValue

    private var stack: [PickleValue] = []
    /// Stack heights at each MARK still open.
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Where the opcode being run starts, for error messages.
    private var opcodeStart = 0
    /// Opcodes run so far, bounded by `CheckpointLimits.maximumPickleOperations`.
    private var operationCount = 0

    init(bytes: [UInt8], startingAt start: Int = 0, limits: Limits = .standard,
         persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
        self.limits = limits
        self.bytes = bytes
        self.position = start
        self.persistentLoad = persistentLoad
    }

    /// Runs until STOP. Returns the result and the offset just after the STOP opcode (a legacy
    /// torch file is several pickles in a row).
    mutating func load() throws -> (value: PickleValue, end: Int) {
        while true {
            opcodeStart = position
            operationCount += 1
            guard operationCount <= limits.operations else {
                throw fail("the pickle runs more than \(limits.operations) opcodes (limit maximumPickleOperations)")
            }
            guard stack.count + marks.count <= limits.stackSize else {
                throw fail("the pickle's stack holds \(stack.count + marks.count) values and marks, more than \(limits.stackSize) (limit maximumPickleStackSize)")
            }
            let opcode = try readByte()
            if opcode == Opcode.stop {
                guard stack.count == 1, marks.isEmpty else {
                    throw fail("STOP with \(stack.count) values on the stack and \(marks.count) open marks")
                }
                return (stack[0], position)
            }
            try run(opcode)
        }
    }

    // MARK: Opcodes

    /// The opcode bytes this reader knows (names as in Python's `pickletools`).
    private enum Opcode {
        static let proto: UInt8 = 0x80, frame: UInt8 = 0x95, stop = UInt8(ascii: ".")
        static let mark = UInt8(ascii: "("), emptyTuple = UInt8(ascii: ")")
        static let emptyList = UInt8(ascii: "]"), emptyDictionary = UInt8(ascii: "}")
        static let tuple = UInt8(ascii: "t"), tuple1: UInt8 = 0x85, tuple2: UInt8 = 0x86, tuple3: UInt8 = 0x87
        static let binInt = UInt8(ascii: "J"), binInt1 = UInt8(ascii: "K"), binInt2 = UInt8(ascii: "M")
        static let long1: UInt8 = 0x8a, binFloat = UInt8(ascii: "G")
        static let none = UInt8(ascii: "N"), newTrue: UInt8 = 0x88, newFalse: UInt8 = 0x89
        static let shortBinUnicode: UInt8 = 0x8c, binUnicode = UInt8(ascii: "X"), binUnicode8: UInt8 = 0x8d
        static let shortBinString = UInt8(ascii: "U"), binString = UInt8(ascii: "T")
        static let shortBinBytes = UInt8(ascii: "C"), binBytes = UInt8(ascii: "B")
        static let binPut = UInt8(ascii: "q"), longBinPut = UInt8(ascii: "r"), memoize: UInt8 = 0x94
        static let binGet = UInt8(ascii: "h"), longBinGet = UInt8(ascii: "j")
        static let setItem = UInt8(ascii: "s"), setItems = UInt8(ascii: "u")
        static let append = UInt8(ascii: "a"), appends = UInt8(ascii: "e")
        static let global = UInt8(ascii: "c"), stackGlobal: UInt8 = 0x93
        static let reduce = UInt8(ascii: "R"), build = UInt8(ascii: "b"), binPersistentID = UInt8(ascii: "Q")
    }

    private mutating func run(_ opcode: UInt8) throws {
        switch opcode {
        case Opcode.proto:
            let version = try readByte()
            guard (2...5).contains(version) else { throw fail("pickle protocol \(version) is not supported (need 2 to 5)") }
        case Opcode.frame:
            _ = try readBytes(8)  // a framing hint for buffered readers; the whole input is in memory
        case Opcode.mark:
            marks.append(stack.count)
        case Opcode.emptyTuple:
            stack.append(.tuple([], depth: 1))
        case Opcode.emptyList:
            stack.append(.list(PickleList()))
        case Opcode.emptyDictionary:
            stack.append(.dictionary(PickleDictionary()))
        case Opcode.tuple:
            try push(makeTuple(popToMark()))
        case Opcode.tuple1, Opcode.tuple2, Opcode.tuple3:
            try push(makeTuple(pop(Int(opcode - Opcode.tuple1) + 1)))
        case Opcode.binInt:
            let raw = try readLittleEndian(4)
            stack.append(.integer(Int(Int32(bitPattern: UInt32(raw)))))
        case Opcode.binInt1:
            stack.append(.integer(Int(try readByte())))
        case Opcode.binInt2:
            stack.append(.integer(Int(try readLittleEndian(2))))
        case Opcode.long1:
            stack.append(try readLong(byteCount: Int(try readByte())))
        case Opcode.binFloat:
            // The one big-endian field in a pickle.
            let raw = try readBytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            stack.append(.float(Double(bitPattern: raw)))
        case Opcode.none:
            stack.append(.none)
        case Opcode.newTrue, Opcode.newFalse:
            stack.append(.bool(opcode == Opcode.newTrue))
        case Opcode.shortBinUnicode:
            stack.append(.string(try readString(byteCount: Int(try readByte()))))
        case Opcode.binUnicode:
            stack.append(.string(try readString(byteCount: try readLittleEndian(4))))
        case Opcode.binUnicode8:
            stack.append(.string(try readString(byteCount: try readLittleEndian(8))))
        case Opcode.shortBinString:
            // Python 2 `str`, found in checkpoints written by Python 2: text for our purposes.
            stack.append(.string(try readString(byteCount: Int(try readByte()))))
        case Opcode.binString:
            stack.append(.string(try readString(byteCount: try readLittleEndian(4))))
        case Opcode.shortBinBytes:
            stack.append(.bytes(try readBytes(Int(try readByte()))))
        case Opcode.binBytes:
            stack.append(.bytes(try readBytes(try readLittleEndian(4))))
        case Opcode.binPut:
            try store(at: Int(try readByte()))
        case Opcode.longBinPut:
            try store(at: try readLittleEndian(4))
        case Opcode.memoize:
            try store(at: memo.count)
        case Opcode.binGet:
            try fetch(from: Int(try readByte()))
        case Opcode.longBinGet:
            try fetch(from: try readLittleEndian(4))
        case Opcode.setItem:
            let pair = try pop(2)
            try insert(pair, into: try top())
        case Opcode.setItems:
            let items = try popToMark()
            guard items.count.isMultiple(of: 2) else { throw fail("SETITEMS with an odd number of values") }
            try insert(items, into: try top())
        case Opcode.append:
            try append(try pop(1), to: try top())
        case Opcode.appends:
            let items = try popToMark()
            try append(items, to: try top())
        case Opcode.global:
            let module = try readLine()
            let name = try readLine()
            stack.append(try global(module: module, name: name))
        case Opcode.stackGlobal:
            let parts = try pop(2)
            guard case let .string(module) = parts[0], case let .string(name) = parts[1] else {
                throw fail("STACK_GLOBAL needs two strings, got \(parts[0].kindName) and \(parts[1].kindName)")
            }
            stack.append(try global(module: module, name: name))
        case Opcode.reduce:
            let parts = try pop(2)
            guard case let .tuple(arguments, _) = parts[1] else {
                throw fail("REDUCE needs an argument tuple, got \(parts[1].kindName)")
            }
            try push(try call(parts[0], arguments))
        case Opcode.build:
            let parts = try pop(2)
            try build(parts[0], state: parts[1])
            stack.append(parts[0])
        case Opcode.binPersistentID:
            let identifier = try pop(1)[0]
            do {
                stack.append(try persistentLoad(identifier))
            } catch let UnpicklingError.malformed(_, problem) {
                throw fail(problem)
            }
        default:
            throw fail("opcode 0x\(String(opcode, radix: 16)) is not one a state_dict uses")
        }
    }

    // MARK: Stack, memo and containers

    private func fail(_ problem: String) -> UnpicklingError {
        .malformed(opcodeStart, problem)
    }

    /// Pushes a newly built container after checking its nesting.
    private mutating func push(_ value: PickleValue) throws {
        guard value.depth <= Self.maximumNesting else {
            throw fail("containers nested more than \(Self.maximumNesting) deep (limit maximumPickleNesting)")
        }
        stack.append(value)
    }

    private func top() throws -> PickleValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return value
    }

    /// Pops the top `count` values, oldest first; never reaches below the innermost MARK.
    private mutating func pop(_ count: Int) throws -> [PickleValue] {
        guard stack.count - count >= (marks.last ?? 0) else { throw fail("stack underflow") }
        let values = Array(stack.suffix(count))
        stack.removeLast(count)
        return values
    }

    private mutating func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("no MARK to pop to") }
        let values = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return values
    }

    private mutating func store(at index: Int) throws {
        guard memo.count < limits.memoEntries || memo[index] != nil else {
            throw fail("the pickle's memo would hold more than \(limits.memoEntries) values (limit maximumPickleMemoEntries)")
        }
        memo[index] = try top()
    }

    private mutating func fetch(from index: Int) throws {
        guard let value = memo[index] else { throw fail("memo index \(index) was never stored") }
        stack.append(value)
    }

    /// Marks `values` as placed inside a container (they may no longer change) and returns
    /// the container depth needed to hold them.
    private func freeze(_ values: [PickleValue]) -> Int {
        var deepest = 0
        for value in values {
            switch value {
            case let .list(list): list.isFrozen = true
            case let .dictionary(dictionary): dictionary.isFrozen = true
            default: break
            }
            deepest = Swift.max(deepest, value.depth)
        }
        return deepest + 1
    }

    private func makeTuple(_ items: [PickleValue]) -> PickleValue {
        .tuple(items, depth: freeze(items))
    }

    private func insert(_ keysAndValues: [PickleValue], into target: PickleValue) throws {
        guard case let .dictionary(dictionary) = target else {
            throw fail("SETITEM on \(target.kindName), not a dict")
        }
        let depth = freeze(keysAndValues)  // first, so that a dict cannot be put inside itself
        guard !dictionary.isFrozen else { throw fail("a dict is changed after being nested, which makes cycles possible") }
        guard depth <= Self.maximumNesting else { throw fail("containers nested more than \(Self.maximumNesting) deep (limit maximumPickleNesting)") }
        dictionary.depth = Swift.max(dictionary.depth, depth)
        for pairStart in stride(from: 0, to: keysAndValues.count, by: 2) {
            let key = keysAndValues[pairStart]
            let value = keysAndValues[pairStart + 1]
            let hashableKey: PickleKey
            switch key {
            case let .string(text): hashableKey = .string(text)
            case let .integer(number): hashableKey = .integer(number)
            default: throw fail("dict key of type \(key.kindName) is not supported")
            }
            if let existing = dictionary.indexOfKey[hashableKey] {
                dictionary.entries[existing].value = value
            } else {
                dictionary.indexOfKey[hashableKey] = dictionary.entries.count
                dictionary.entries.append((key, value))
            }
        }
    }

    private func append(_ items: [PickleValue], to target: PickleValue) throws {
        guard case let .list(list) = target else { throw fail("APPEND on \(target.kindName), not a list") }
        let depth = freeze(items)
        guard !list.isFrozen else { throw fail("a list is changed after being nested, which makes cycles possible") }
        guard depth <= Self.maximumNesting else { throw fail("containers nested more than \(Self.maximumNesting) deep (limit maximumPickleNesting)") }
        list.depth = Swift.max(list.depth, depth)
        list.items.append(contentsOf: items)
    }

    private func global(module: String, name: String) throws -> PickleValue {
        guard let allowed = AllowedGlobal.named(module: module, name: name) else {
            throw UnpicklingError.forbiddenGlobal(printable("\(module).\(name)"))
        }
        return .global(allowed)
    }

    /// REDUCE: "calls" an allowed global by describing its result; nothing is executed.
    private func call(_ callable: PickleValue, _ arguments: [PickleValue]) throws -> PickleValue {
        guard case let .global(function) = callable else {
            throw fail("REDUCE calls \(callable.kindName), not an allowed function")
        }
        switch function {
        case .orderedDictionary:
            guard arguments.isEmpty else { throw fail("OrderedDict called with arguments") }
            return .dictionary(PickleDictionary())
        case .rebuildTensor:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard arguments.count == 6 || arguments.count == 7 else {
                throw fail("_rebuild_tensor_v2 called with \(arguments.count) arguments, expected 6 or 7")
            }
            guard case let .storage(storage) = arguments[0] else {
                throw fail("_rebuild_tensor_v2 needs a storage, got \(arguments[0].kindName)")
            }
            guard case let .integer(offset) = arguments[1] else {
                throw fail("_rebuild_tensor_v2 needs an integer storage offset, got \(arguments[1].kindName)")
            }
            return .tensor(TensorReference(storage: storage, storageOffset: offset,
                                           shape: try integers(arguments[2], "size"),
                                           strides: try integers(arguments[3], "stride")))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks): a Parameter is just its tensor here.
            guard arguments.count == 3, case .tensor = arguments[0] else {
                throw fail("_rebuild_parameter needs (tensor, requires_grad, backward_hooks)")
            }
            return arguments[0]
        case .storageType:
            throw fail("a storage type is called, which torch.save never does")
        }
    }

    private func integers(_ value: PickleValue, _ what: String) throws -> [Int] {
        guard case let .tuple(items, _) = value else { throw fail("tensor \(what) is \(value.kindName), not a tuple") }
        return try items.map { item in
            guard case let .integer(number) = item else { throw fail("tensor \(what) holds \(item.kindName)") }
            return number
        }
    }

    /// BUILD sets an object's attributes. The only use in a state_dict: the `_metadata`
    /// attribute (layer versions) of the OrderedDict, which a reader can ignore.
    private func build(_ target: PickleValue, state: PickleValue) throws {
        guard case .dictionary = target else { throw fail("BUILD on \(target.kindName), which a state_dict never does") }
        guard case .dictionary = state else { throw fail("BUILD with \(state.kindName) as state") }
        _ = freeze([state])
    }

    // MARK: Reading bytes

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw fail("the pickle ends before its STOP opcode (truncated?)") }
        position += 1
        return bytes[position - 1]
    }

    /// Reads `count` bytes, after checking that they exist: a length field can never make the
    /// reader allocate more than the input holds.
    private mutating func readBytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else {
            throw fail("a field of \(count) bytes runs past the end of the pickle (truncated?)")
        }
        position += count
        return Array(bytes[(position - count)..<position])
    }

    /// An unsigned little-endian integer of `count` (≤ 8) bytes, as an Int.
    private mutating func readLittleEndian(_ count: Int) throws -> Int {
        let raw = try readBytes(count).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard raw <= UInt64(Int.max) else { throw fail("length \(raw) is too large") }
        return Int(raw)
    }

    /// LONG1: a two's-complement little-endian integer of `byteCount` bytes.
    private mutating func readLong(byteCount: Int) throws -> PickleValue {
        let raw = try readBytes(byteCount)
        guard byteCount <= 8 else { return .largeInteger(raw) }
        guard let last = raw.last else { return .integer(0) }
        // Sign-extend from the top bit of the last byte.
        var value: UInt64 = last & 0x80 != 0 ? ~0 : 0
        for byte in raw.reversed() { value = value << 8 | UInt64(byte) }
        return .integer(Int(Int64(bitPattern: value)))
    }

    private mutating func readString(byteCount: Int) throws -> String {
        let raw = try readBytes(byteCount)
        // Python 2 strings need not be UTF-8; every byte is then kept as a Latin-1 character.
        return String(validating: raw, as: UTF8.self) ?? String(raw.map { Character(Unicode.Scalar($0)) })
    }

    /// GLOBAL's arguments: text up to a newline (at most 256 bytes; names are short).
    private mutating func readLine() throws -> String {
        let window = bytes[position..<Swift.min(bytes.count, position + 256)]
        guard let newline = window.firstIndex(of: UInt8(ascii: "\n")) else {
            throw fail("GLOBAL name without a newline within 256 bytes")
        }
        let text = try readString(byteCount: newline - position)
        position += 1
        return text
    }
}
