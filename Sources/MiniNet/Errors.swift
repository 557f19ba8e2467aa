/// Errors MiniNet reports to people: each reads as one line naming the thing and the problem.
public enum MiniNetError: Error, CustomStringConvertible, Equatable {
    /// A file could not be read or written: (path, problem).
    case file(String, String)
    /// A model or checkpoint does not fit the architecture: (problem).
    case invalidModel(String)
    /// An argument is out of range: (problem).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .file(path, problem): return "\(path): \(problem)"
        case let .invalidModel(problem): return problem
        case let .invalidArgument(problem): return problem
        }
    }
}
