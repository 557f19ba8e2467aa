// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tutor",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tutor", targets: ["tutor"]),
        .library(name: "MiniNet", targets: ["MiniNet"]),
        .library(name: "Lessons", targets: ["Lessons"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // HMAC-SHA256 and a CSPRNG key for course secrets (homework): no hand-written cryptography.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // libpng decode/encode written in C, with libpng's setjmp error handling,
        // so that a corrupt PNG becomes a Swift error instead of a crash.
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png")]),
        // The few cblas/OpenBLAS prototypes MiniNet needs (Debian: libopenblas-dev), and zlib's
        // CRC-32 for checkpoint archives (Debian: zlib1g-dev, which libpng needs anyway).
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("openblas"), .linkedLibrary("z")]),
        // Hot loops outside OpenBLAS (Winograd's transforms, im2col, ReLU, BatchNorm, max
        // pooling), each compiled for AVX-512, AVX2 and SSE2 from one source and chosen on first
        // use (VectorWidth, TUTOR_SIMD), so that one binary uses the widest vectors a processor has;
        // and the spinning thread pool that the threads' share of every pass runs on (thread_pool.h).
        .target(name: "CKernels"),
        .target(
            name: "MiniNet",
            dependencies: ["CPNG", "CBLAS", "CKernels"]
        ),
        .target(name: "Lessons", dependencies: ["MiniNet", .product(name: "Crypto", package: "swift-crypto")], resources: [.copy("Resources")]),
        .executableTarget(
            name: "tutor",
            dependencies: ["MiniNet", "Lessons", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "MiniNetTests", dependencies: ["MiniNet"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LessonsTests", dependencies: ["Lessons", "MiniNet"]),
    ],
    swiftLanguageModes: [.v5]
)
