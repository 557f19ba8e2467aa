import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// NaN and infinities reaching the picture code (issue 11): every colour map and overlay
/// gives a defined picture instead of stopping on "Float value cannot be converted to UInt8".
final class NonFinitePictureTests: XCTestCase {
    private let broken = Tensor(shape: [2, 2], data: [.nan, .infinity, -.infinity, 0.5])
    private let photo = RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 100, count: 12))

    func testColorMapsPaintNaNAsZeroAndClampInfinities() {
        XCTAssertTrue(ColorMap.jet.color(.nan) == ColorMap.jet.color(0))
        XCTAssertTrue(ColorMap.jet.color(.infinity) == ColorMap.jet.color(1))
        XCTAssertTrue(ColorMap.diverging.color(.nan) == (255, 255, 255))
        XCTAssertTrue(ColorMap.diverging.color(-.infinity) == (0, 0, 255))
    }

    func testColorizeAndOverlayAreTotal() {
        // Diverging: the finite 0.5 sets the scale, so it is full red; ±∞ saturate; NaN is white.
        XCTAssertEqual(colorize(broken, map: .diverging).pixels, [255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 0, 0])
        XCTAssertEqual(colorize(broken, map: .jet).pixels.count, 12)
        for map in ColorMap.allCases {
            XCTAssertEqual(overlay(broken, on: photo, map: map).pixels.count, 12)
            // A heatmap of another size goes through bilinear resizing, which spreads the NaN.
            XCTAssertEqual(overlay(broken, on: RGBImage(width: 5, height: 3, pixels: [UInt8](repeating: 7, count: 45)), map: map).pixels.count, 45)
            let all = Tensor(shape: [1, 2], data: [.nan, .nan])
            XCTAssertEqual(colorize(all, map: map).pixels.count, 6)
            XCTAssertEqual(Panel.overlay("all NaN", heatmap: all, on: photo, map: map).intensities(width: 2, height: 2), [0, 0, 0, 0])
        }
        XCTAssertEqual(Panel.heatmap("broken", broken, map: .diverging).intensities(width: 2, height: 2), [0, 1, -1, 1])
    }
}
