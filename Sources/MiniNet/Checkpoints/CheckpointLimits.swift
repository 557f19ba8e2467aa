import Foundation

/// Every limit MiniNet applies to checkpoints and model files, in one place.
///
/// A file may come from anywhere, so each number it declares (a size, a stride, a count, a
/// length) is compared with one of these before anything is allocated or looped over. The
/// limits are far above what real files need (torchvision's ResNet-50: 25.6 million weights,
/// at most 2 million in one tensor; its pickle: about 20 000 opcodes) and far below what would
/// exhaust memory or time. docs/limits.md lists them for readers.
public enum CheckpointLimits {
    // MARK: Files

    /// The largest weights file read (.pth, .safetensors, tutor model file): 2 GiB, eight times
    /// a ResNet-152 checkpoint. Its tensors all end up in memory (and a legacy .pth is read
    /// whole), so a bigger one is refused before it is opened.
    public static let maximumFileBytes = 1 << 31

    // MARK: Tensors

    /// The most elements one tensor may hold (2²⁶ = 256 MiB as Float32).
    public static let maximumTensorElements = 1 << 26
    /// The most elements all tensors of one file may hold together (2²⁷ = 512 MiB as Float32).
    /// A zero-stride view repeats stored elements, so many views of one small storage could
    /// otherwise ask for far more memory than the file holds.
    public static let maximumTotalElements = 1 << 27
    /// The most axes a tensor may have.
    public static let maximumRank = 8

    // MARK: Pickles (torch .pth)

    /// The deepest nesting of containers; a state_dict needs about 4.
    public static let maximumPickleNesting = 100
    /// The most values the memo (the pickle's table of shared values) may hold.
    public static let maximumPickleMemoEntries = 1 << 20
    /// The most values the stack may hold at once.
    public static let maximumPickleStackSize = 1 << 20
    /// The most opcodes one pickle may run.
    public static let maximumPickleOperations = 1 << 24

    // MARK: safetensors

    /// The longest JSON header, as in the reference library (100 MB).
    public static let maximumSafeTensorsHeaderLength = 100_000_000

    // MARK: Model architectures

    /// The largest input height and width.
    public static let maximumInputSide = 1024
    /// The largest channel or feature count of one layer.
    public static let maximumChannels = 1 << 16
    /// The largest convolution or pooling kernel side.
    public static let maximumKernelSize = 31
    /// The most weights (parameters and buffers) a whole model may have (2²⁷).
    public static let maximumParameterCount = 1 << 27
    /// The most values one layer's output may hold for one picture (2²⁶).
    public static let maximumActivationElements = 1 << 26
    /// The most class names.
    public static let maximumClassCount = 100_000
    /// The most layers an architecture may list (torchvision's ResNet-152 lists 56).
    public static let maximumLayerCount = 10_000
}

extension CheckpointLimits {
    /// Checks, without opening it, that `path` is a regular file (not a FIFO, a directory or a
    /// device) of at most `maximumFileBytes`; otherwise throws one line naming the file, its
    /// size and the limit.
    public static func checkWeightsFile(_ path: String) throws {
        let size = try RegularFile.check(path)
        guard size <= maximumFileBytes else {
            throw MiniNetError.file(path, "is \(size) bytes, over the limit of \(maximumFileBytes) bytes (\(maximumFileBytes >> 30) GiB) for a weights file (limit maximumFileBytes)")
        }
    }
}

/// `text` made safe to quote in a one-line error message: control characters (a newline in a
/// tensor name would split the message) become "?", and a long text is cut to
/// `maximumLength` characters ending in "…".
func printable(_ text: String, maximumLength: Int = 80) -> String {
    var result = ""
    for character in text {
        if result.count == maximumLength - 1 { return result + "…" }
        let isControl = character.unicodeScalars.contains { $0.properties.generalCategory == .control }
        result.append(isControl ? "?" : character)
    }
    return result
}
