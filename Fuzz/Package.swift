// swift-tools-version:6.0
// libFuzzer harnesses for tutor's file readers, kept out of the main package so that
// `swift build` and `swift test` never need the fuzzer runtime. Built and run only by
// scripts/fuzz.sh (with -sanitize=fuzzer), see docs/limits.md, "Fuzzing".
import Foundation
import PackageDescription

// A package depended on by path is known by the name of its folder (the checkout's name,
// which varies), so that name is read from this file's location.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let tutor = root.lastPathComponent

/// One executable per reader, each needing only MiniNet. FuzzAnswers compiles the answers-file
/// parser itself: Sources/FuzzAnswers/AnswersFile.swift is a link to the Lessons source, which
/// must keep needing only MiniNet and Foundation. Building the Lessons module instead would
/// build swift-crypto and BoringSSL with the fuzzer's instrumentation, five minutes on two cores.
let harnesses = ["FuzzPNG", "FuzzNpy", "FuzzSafeTensors", "FuzzZip", "FuzzPickle", "FuzzAnswers"]

let package = Package(
    name: "tutor-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: root.path)],
    targets: [.target(name: "CFuzzerDriver"), .target(name: "FuzzSupport")] + harnesses.map { name in
        .executableTarget(name: name, dependencies: ["CFuzzerDriver", "FuzzSupport", .product(name: "MiniNet", package: tutor)])
    },
    swiftLanguageModes: [.v5]
)
