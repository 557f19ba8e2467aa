import Foundation
import XCTest
@testable import MiniNet

final class ShapesDatasetTests: XCTestCase {
    // MARK: SeededGenerator

    /// SplitMix64 reference outputs for seed 1234567 (from Vigna's splitmix64.c / Java's
    /// SplittableRandom): proves the generator is the documented algorithm, bit for bit.
    func testSplitMix64MatchesReferenceOutputs() {
        var generator = SeededGenerator(seed: 1_234_567)
        let expected: [UInt64] = [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                                  4_593_380_528_125_082_431, 16_408_922_859_458_223_821]
        XCTAssertEqual((0..<5).map { _ in generator.next() }, expected)
    }

    func testHelpersStayInRangeAndHaveTheRightMoments() {
        var generator = SeededGenerator(seed: 42, stream: 3)
        var uniformSum = 0.0
        var normalSum = 0.0
        var normalSquares = 0.0
        var integerCounts = [Int](repeating: 0, count: 5)
        let draws = 20_000
        for _ in 0..<draws {
            let u = generator.nextUniform()
            XCTAssertTrue(u >= 0 && u < 1)
            uniformSum += Double(u)
            let v = generator.uniform(-2, 3)
            XCTAssertTrue(v >= -2 && v <= 3)
            integerCounts[generator.integer(below: 5)] += 1
            let z = Double(generator.normal())
            normalSum += z
            normalSquares += z * z
        }
        // Statistical, not rounding: the standard error of a mean of 20,000 draws is 0.002 for
        // U(0, 1), 0.007 for N(0, 1), 0.01 for its squares and √(20000·0.16) ≈ 57 per count; each
        // bound is 4–5 standard errors, so a seed fails about once in 10⁴–10⁶.
        XCTAssertEqual(uniformSum / Double(draws), 0.5, accuracy: 0.01)
        XCTAssertEqual(normalSum / Double(draws), 0, accuracy: 0.03)
        XCTAssertEqual(normalSquares / Double(draws), 1, accuracy: 0.04)
        for count in integerCounts { XCTAssertEqual(Double(count), Double(draws) / 5, accuracy: 300) }
    }

    func testNormalIsTheFirstOfNormalPair() {
        var single = SeededGenerator(seed: 9)
        var paired = SeededGenerator(seed: 9)
        for _ in 0..<100 { XCTAssertEqual(single.normal(), paired.normalPair().0) }
    }

    func testStreamsAreDifferentAndReproducible() {
        var first = SeededGenerator(seed: 5, stream: 0)
        var second = SeededGenerator(seed: 5, stream: 1)
        var again = SeededGenerator(seed: 5, stream: 1)
        let a = (0..<8).map { _ in first.next() }
        let b = (0..<8).map { _ in second.next() }
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(b, (0..<8).map { _ in again.next() })
    }

    func testPortableMathAgreesWithLibm() {
        for step in 0..<1000 {
            let x = Double(step) * 0.0137 - 6.5
            let (cosine, sine) = PortableMath.cosAndSin(x)
            // Double-precision identities (|values| ≤ 7, u = 2⁻⁵³): 1e-12 is thousands of ulps,
            // not float32 rounding.
            XCTAssertEqual(cosine, Foundation.cos(x), accuracy: 1e-12)
            XCTAssertEqual(sine, Foundation.sin(x), accuracy: 1e-12)
            let positive = Double(step + 1) * 0.00731
            XCTAssertEqual(PortableMath.log(positive), Foundation.log(positive), accuracy: 1e-12)
        }
        XCTAssertEqual(PortableMath.log(1e-300), Foundation.log(1e-300), accuracy: 1e-10)
    }

    // MARK: Data set

    func testSameSeedGivesIdenticalDataAndOtherSeedsDiffer() {
        let first = ShapesDataset(count: 20, seed: 11).batch(0..<20)
        let again = ShapesDataset(count: 20, seed: 11).batch(0..<20)
        let other = ShapesDataset(count: 20, seed: 12).batch(0..<20)
        XCTAssertEqual(first.images, again.images)
        XCTAssertEqual(first.labels, again.labels)
        XCTAssertNotEqual(first.images, other.images)
        XCTAssertEqual(ShapesDataset(count: 20, seed: 11).sample(at: 3).mask,
                       ShapesDataset(count: 20, seed: 11).sample(at: 3).mask)
    }

    func testRandomAccessEqualsSequentialGeneration() {
        let dataset = ShapesDataset(count: 50, seed: 3)
        let batch = dataset.batch(0..<12)
        XCTAssertEqual(batch.images.shape, [12, 3, 32, 32])
        for index in 0..<12 {
            let sample = dataset.sample(at: index)
            XCTAssertEqual(batch.images.slice(index), sample.image)
            XCTAssertEqual(batch.labels[index], sample.label)
        }
        // Sample 41 on its own, from a fresh data set description, is the same picture.
        XCTAssertEqual(ShapesDataset(count: 50, seed: 3).sample(at: 41).image, dataset.batch(40..<42).images.slice(1))
        // The threads draw a batch's samples side by side: the same pictures on one thread.
        let previous = Gemm.maximumThreads
        Gemm.setThreads(1)
        let alone = dataset.batch(0..<50)
        Gemm.setThreads(max(previous, 2))
        let sideBySide = dataset.batch(0..<50)
        Gemm.setThreads(previous)
        XCTAssertEqual(alone.images.data.map(\.bitPattern), sideBySide.images.data.map(\.bitPattern))
        XCTAssertEqual(alone.labels, sideBySide.labels)
    }

    func testImagesAndMasksAreInRangeAndMasksAreNonEmpty() {
        let dataset = ShapesDataset(count: 60, seed: 21)
        for index in 0..<dataset.count {
            let sample = dataset.sample(at: index)
            XCTAssertEqual(sample.image.shape, [3, 32, 32])
            XCTAssertEqual(sample.mask.shape, [32, 32])
            XCTAssertGreaterThanOrEqual(sample.image.min, 0)
            XCTAssertLessThanOrEqual(sample.image.max, 1)
            XCTAssertGreaterThanOrEqual(sample.mask.min, 0)
            XCTAssertLessThanOrEqual(sample.mask.max, 1)
            XCTAssertEqual(sample.mask.max, 1, "a shape of radius ≥ 5 px covers some pixel fully")
            XCTAssertEqual(sample.placement.kind.rawValue, sample.label)
        }
    }

    /// Coverage summed over the mask is the shape's area in pixels, up to sub-sampling error
    /// along the outline (at most about one pixel's worth per pixel of perimeter / 8).
    func testMaskAreaMatchesNominalArea() {
        for imageSize in [32, 48] {
            let dataset = ShapesDataset(count: 45, seed: 8, imageSize: imageSize)
            for index in 0..<dataset.count {
                let sample = dataset.sample(at: index)
                let nominal = Double(sample.placement.kind.area(boundingRadius: sample.placement.radius))
                let perimeter = 2 * Double.pi * Double(sample.placement.radius)
                XCTAssertEqual(sample.mask.sum(), nominal, accuracy: 0.02 * nominal + perimeter / 8,
                               "\(sample.placement.kind.name) of radius \(sample.placement.radius) at size \(imageSize)")
            }
        }
    }

    /// The mask marks the shape only: nothing outside the shape's bounding circle (where the
    /// clutter lives) is ever marked.
    func testMaskIsZeroOutsideTheShape() {
        let dataset = ShapesDataset(count: 30, seed: 5)
        for index in 0..<dataset.count {
            let sample = dataset.sample(at: index)
            let placement = sample.placement
            for y in 0..<32 {
                for x in 0..<32 {
                    let dx = Float(x) + 0.5 - placement.centerX
                    let dy = Float(y) + 0.5 - placement.centerY
                    if (dx * dx + dy * dy).squareRoot() > placement.radius + 0.75 {
                        XCTAssertEqual(sample.mask[y, x], 0)
                    }
                }
            }
        }
    }

    func testClassesAreBalanced() {
        let dataset = ShapesDataset(count: 301, seed: 99)
        var counts = [Int](repeating: 0, count: 3)
        for index in 0..<dataset.count { counts[dataset.label(at: index)] += 1 }
        XCTAssertEqual(counts.reduce(0, +), 301)
        XCTAssertTrue(counts.allSatisfy { $0 == 100 || $0 == 101 }, "\(counts)")
        XCTAssertEqual(ShapesDataset.classNames, ["circle", "square", "triangle"])
        XCTAssertEqual(ShapeKind.allCases.map(\.name), ShapesDataset.classNames)
    }

    func testTwoShapeScenesHaveTwoClassesWithDisjointMasks() {
        for seed in UInt64(0)..<40 {
            let scene = ShapesDataset.twoShapeScene(seed: seed, imageSize: seed % 2 == 0 ? 32 : 64)
            XCTAssertEqual(scene.labels.count, 2)
            XCTAssertNotEqual(scene.labels[0], scene.labels[1])
            XCTAssertEqual(scene.masks.count, 2)
            XCTAssertGreaterThan(scene.masks[0].sum(), 10)
            XCTAssertGreaterThan(scene.masks[1].sum(), 10)
            XCTAssertEqual((scene.masks[0] * scene.masks[1]).sum(), 0, "masks overlap for seed \(seed)")
            XCTAssertGreaterThanOrEqual(scene.image.min, 0)
            XCTAssertLessThanOrEqual(scene.image.max, 1)
        }
        let chosen = ShapesDataset.twoShapeScene(seed: 1, labels: [2, 0])
        XCTAssertEqual(chosen.labels, [2, 0])
        XCTAssertEqual(chosen.placements.map(\.kind), [.triangle, .circle])
        XCTAssertEqual(chosen.image, ShapesDataset.twoShapeScene(seed: 1, labels: [2, 0]).image)
    }

    func testValidatedRejectsBadArgumentsWithOneLineErrors() {
        XCTAssertThrowsError(try ShapesDataset.validated(count: 10, seed: 1, imageSize: 16)) { error in
            XCTAssertEqual("\(error)", "shapes data set: image size must be between 32 and 64 pixels, got 16")
        }
        XCTAssertThrowsError(try ShapesDataset.validated(count: -1, seed: 1))
        XCTAssertEqual(try ShapesDataset.validated(count: 5, seed: 1, imageSize: 64).imageSize, 64)
    }

    func testGenerationIsFast() {
        // 4000 pictures take well under a second in a release build; a debug build is much
        // slower, so only a loose bound on a smaller batch is checked here.
        let start = Date()
        _ = ShapesDataset(count: 200, seed: 1).batch(0..<200)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    // MARK: Sample pictures in images/shapes/

    /// The committed pictures: the first circle, square and triangle of
    /// `ShapesDataset(count: 30, seed: 7)` and `twoShapeScene(seed: 7, labels: [0, 2])`.
    static func samplePictures() -> [(name: String, image: RGBImage)] {
        let dataset = ShapesDataset(count: 30, seed: 7)
        var pictures = [(name: String, image: RGBImage)]()
        for kind in ShapeKind.allCases {
            guard let index = (0..<dataset.count).first(where: { dataset.label(at: $0) == kind.rawValue }) else { continue }
            pictures.append((kind.name, RGBImage(tensor: dataset.sample(at: index).image)))
        }
        pictures.append(("two-shapes", RGBImage(tensor: ShapesDataset.twoShapeScene(seed: 7, labels: [0, 2]).image)))
        return pictures
    }

    /// The masks of the single-shape pictures, for `tutor evaluate circle.png --mask
    /// circle-mask.png`: the coverage in 0…1 as a grey PNG (luminance = coverage, 8 bits).
    static func sampleMasks() -> [(name: String, image: RGBImage)] {
        let dataset = ShapesDataset(count: 30, seed: 7)
        return ShapeKind.allCases.compactMap { kind in
            guard let index = (0..<dataset.count).first(where: { dataset.label(at: $0) == kind.rawValue }) else { return nil }
            let mask = dataset.sample(at: index).mask                                  // [H, W]
            let grey = mask.data.map { UInt8((Swift.min(Swift.max($0, 0), 1) * 255).rounded()) }
            return ("\(kind.name)-mask", RGBImage(width: mask.shape[1], height: mask.shape[0], pixels: grey.flatMap { [$0, $0, $0] }))
        }
    }

    static var picturesFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("images/shapes")
    }

    /// Nearest-neighbour enlargement by an integer factor, for looking at 32×32 pictures.
    static func enlarged(_ image: RGBImage, by factor: Int) -> RGBImage {
        let width = image.width * factor
        let height = image.height * factor
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let source = ((y / factor) * image.width + x / factor) * 3
                let target = (y * width + x) * 3
                for channel in 0..<3 { pixels[target + channel] = image.pixels[source + channel] }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Rewrites images/shapes/ when run with SHAPES_WRITE_IMAGES=1; otherwise checks that the
    /// committed native-size pictures are exactly what the generator draws.
    func testSamplePicturesMatchTheGenerator() throws {
        let folder = Self.picturesFolder
        if ProcessInfo.processInfo.environment["SHAPES_WRITE_IMAGES"] == "1" {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, image) in Self.samplePictures() {
                try image.write(to: folder.appendingPathComponent("\(name).png").path)
                try Self.enlarged(image, by: 4).write(to: folder.appendingPathComponent("\(name)-4x.png").path)
            }
            for (name, image) in Self.sampleMasks() { try image.write(to: folder.appendingPathComponent("\(name).png").path) }
        }
        for (name, image) in Self.samplePictures() + Self.sampleMasks() {
            let path = folder.appendingPathComponent("\(name).png").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw XCTSkip("\(path) not found (run with SHAPES_WRITE_IMAGES=1 to create it)")
            }
            XCTAssertEqual(try RGBImage.read(from: path), image, "\(name).png is stale: run with SHAPES_WRITE_IMAGES=1")
        }
    }
}
