import XCTest
import Lessons

final class LessonsSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
