/// Placeholder until the generated list lands.
public enum ImageNetClasses {
    public static let names: [String] = (0..<1000).map { "class \($0)" }
}
