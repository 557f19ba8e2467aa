import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// The course secret: keyed seeds, the course file and its permissions, due dates and late rules.
final class CourseTests: XCTestCase {
    /// Bytes 0, 1, …, 31: a fixed secret whose HMACs were computed independently (Python's
    /// hmac module), so the seed is checked against another implementation, not against itself.
    static let fixedSecret = Data(0..<32)

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("homework-course-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testSeedIsTheFirstEightBytesOfHMACSHA256() throws {
        let course = try Course(name: "fixed", secret: Self.fixedSecret)
        // python3 -c "import hmac,hashlib; print(hmac.new(bytes(range(32)), b'cam-1/alice', hashlib.sha256).digest()[:8].hex())"
        XCTAssertEqual(course.seed(exercise: "cam-1", student: "alice"), 0x6604_3C86_2ADE_0C11)
        XCTAssertEqual(course.id, "83f358a0c7c1316f")  // … b'tutor course id' …
        XCTAssertEqual(course.seed(exercise: "cam-1", student: "alice"), course.seed(exercise: "cam-1", student: "alice"))
        XCTAssertNotEqual(course.seed(exercise: "cam-1", student: "alice"), course.seed(exercise: "cam-1", student: "bob"))
        XCTAssertNotEqual(course.seed(exercise: "cam-1", student: "alice"), course.seed(exercise: "cam-2", student: "alice"))
    }

    func testCourseNumbersAreDeterministicAndDifferFromPracticeAndFromOtherCourses() throws {
        let course = try Course(name: "a", secret: Self.fixedSecret)
        let sameSecret = try Course(name: "renamed", secret: Self.fixedSecret)
        // Another fixed secret, not a random one: an exercise has few variants (ig-1 has 72), so
        // a random course gave one student the same numbers once in a few dozen runs.
        let other = try Course(name: "b", secret: Data((32..<64).map { UInt8($0) }))
        for template in HomeworkCatalog.templates {
            for student in ["alice", "bob", "student-007"] {
                let inCourse = template.make(student: student, course: course)
                XCTAssertEqual(inCourse.given, template.make(student: student, course: sameSecret).given, template.id)
                XCTAssertEqual(inCourse.questions, template.make(student: student, course: course).questions, template.id)
                let practice = template.make(student: student)
                XCTAssertTrue(inCourse.given != practice.given || inCourse.questions != practice.questions,
                              "\(template.id) \(student): the course gives the practice numbers")
                let elsewhere = template.make(student: student, course: other)
                XCTAssertTrue(inCourse.given != elsewhere.given || inCourse.questions != elsewhere.questions,
                              "\(template.id) \(student): two courses give the same numbers")
                XCTAssertEqual(inCourse.mode, course.mode)
                XCTAssertEqual(practice.mode, .practice)
                // Every course exercise still has a key that passes.
                let report = try HomeworkChecker.check(HomeworkChecker.key(for: inCourse), against: inCourse)
                XCTAssertTrue(report.allPassed, "\(template.id) \(student)")
            }
        }
    }

    func testPracticeSeedingIsUnchanged() {
        // Practice numbers must not move: students' existing practice answers stay valid.
        var draw = StudentDraw(exercise: "cam-1", student: "alice")
        var seeded = StudentDraw(seed: fnv1a64("cam-1/alice"))
        XCTAssertEqual((0..<5).map { _ in draw.next() }, (0..<5).map { _ in seeded.next() })
        XCTAssertEqual(HomeworkCatalog.template(id: "cam-1")!.make(student: "alice"),
                       HomeworkCatalog.template(id: "cam-1")!.make(student: "alice", course: nil))
    }

    func testStudentIDsAreTakenInNFC() throws {
        let course = try Course(name: "a", secret: Self.fixedSecret)
        let composed = "nguy\u{1EC5}n", decomposed = "nguye\u{302}\u{303}n"
        XCTAssertNotEqual(Array(composed.unicodeScalars), Array(decomposed.unicodeScalars))
        XCTAssertEqual(course.seed(exercise: "ig-1", student: composed), course.seed(exercise: "ig-1", student: decomposed))
    }

    func testNewCoursesHaveFreshSecrets() {
        let ids = Set((0..<20).map { _ in Course.new(name: "x").id })
        XCTAssertEqual(ids.count, 20)
    }

    func testCourseFileIsOwnerOnlyAndRoundTrips() throws {
        let folder = try temporaryFolder()
        let path = folder.appendingPathComponent("course.json").path
        let due = try XCTUnwrap(CourseDates.parseDue("2026-03-01", timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh")!))
        let course = Course.new(name: "XAI 2026", due: due, dueByExercise: ["ig-3": due.addingTimeInterval(7 * 86_400)],
                                lateRule: .penaltyPerDay(percent: 12.5))
        try course.write(to: path)
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["course.json"])

        let read = try Course.read(from: path)
        XCTAssertEqual(read.id, course.id)
        XCTAssertEqual(read.name, "XAI 2026")
        XCTAssertEqual(read.due, due)
        XCTAssertEqual(read.due(for: "ig-3"), due.addingTimeInterval(7 * 86_400))
        XCTAssertEqual(read.due(for: "cam-1"), due)
        XCTAssertEqual(read.lateRule, .penaltyPerDay(percent: 12.5))
        XCTAssertEqual(read.seed(exercise: "lrp-2", student: "bob"), course.seed(exercise: "lrp-2", student: "bob"))
    }

    func testAnExistingCourseFileIsNotReplacedUnlessAsked() throws {
        let folder = try temporaryFolder()
        let path = folder.appendingPathComponent("course.json").path
        let first = Course.new(name: "first")
        try first.write(to: path)
        let second = Course.new(name: "second")
        XCTAssertThrowsError(try second.write(to: path)) { error in
            XCTAssertTrue("\(error)".hasSuffix("course.json: already exists"), "\(error)")
        }
        XCTAssertEqual(try Course.read(from: path).id, first.id)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["course.json"])
        try second.write(to: path, replacing: true)
        XCTAssertEqual(try Course.read(from: path).id, second.id)
    }

    func testACourseFileOthersCanReadIsRefused() throws {
        let folder = try temporaryFolder()
        let path = folder.appendingPathComponent("course.json").path
        try Course.new(name: "x").write(to: path)
        for (mode, who) in [(0o644, "every user"), (0o640, "the file's group"), (0o620, "the file's group"), (0o602, "every user")] as [(mode_t, String)] {
            XCTAssertEqual(chmod(path, mode), 0)
            XCTAssertThrowsError(try Course.read(from: path)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("can be read or changed by \(who) (mode \(String(mode, radix: 8)))"), text)
                XCTAssertTrue(text.contains("run `chmod 600 \(path)`"), text)
            }
        }
        XCTAssertEqual(chmod(path, 0o400), 0)
        XCTAssertNoThrow(try Course.read(from: path))
    }

    func testMalformedCourseFilesGetOneLine() throws {
        let good = Course.new(name: "x").fileText()
        let cases: [(String, String)] = [
            ("[1, 2]", "is not a course file (not a JSON object)"),
            ("{\"format\": \"something\"}", "its `format` is not"),
            (good.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 2"), "version 2; this tutor reads version 1"),
            (good.replacingOccurrences(of: "\"secret\": \"", with: "\"secret\": \"zz"), "`secret` must be 64 hex digits"),
            (good.replacingOccurrences(of: "\"rule\": \"mark\"", with: "\"rule\": \"never\""), "`rule` must be"),
            (good.replacingOccurrences(of: "\"rule\": \"mark\"", with: "\"rule\": \"penalty\", \"percent_per_day\": 0"), "`percent_per_day` must be"),
            (good.replacingOccurrences(of: "\"name\": \"x\"", with: "\"name\": \"a\\nb\""), "`name` must be text"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try Course.parse(Data(text.utf8), name: "c.json")) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("c.json: ") && message.contains(expected), message)
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
    }

    func testDueDates() throws {
        let utc = TimeZone(identifier: "UTC")!
        let due = try XCTUnwrap(CourseDates.parseDue("2026-03-01", timeZone: utc))
        XCTAssertEqual(CourseDates.format(due, timeZone: utc), "2026-03-01T23:59:59Z")
        XCTAssertEqual(CourseDates.parseDue("2026-03-01T12:00:00+07:00"), CourseDates.parseDue("2026-03-01T05:00:00Z"))
        for bad in ["2026-02-30", "2026-3-1", "tomorrow", "", "2026-03-01T12:00:00"] {
            XCTAssertNil(CourseDates.parseDue(bad, timeZone: utc), bad)
        }
        XCTAssertEqual(ClassGradebook.startedDays(from: due, to: due), 0)
        XCTAssertEqual(ClassGradebook.startedDays(from: due, to: due.addingTimeInterval(-3_600)), 0)
        XCTAssertEqual(ClassGradebook.startedDays(from: due, to: due.addingTimeInterval(1)), 1)
        XCTAssertEqual(ClassGradebook.startedDays(from: due, to: due.addingTimeInterval(86_400)), 1)
        XCTAssertEqual(ClassGradebook.startedDays(from: due, to: due.addingTimeInterval(86_401)), 2)
    }

    func testLateRules() {
        XCTAssertEqual(LateRule.markOnly.apply(score: 4, maxScore: 5, daysLate: 3), 4)
        XCTAssertEqual(LateRule.zero.apply(score: 4, maxScore: 5, daysLate: 1), 0)
        XCTAssertEqual(LateRule.zero.apply(score: 4, maxScore: 5, daysLate: 0), 4)
        // 10% of the 5 points per day: 4 − 2 · 0.5 = 3; never below 0.
        XCTAssertEqual(LateRule.penaltyPerDay(percent: 10).apply(score: 4, maxScore: 5, daysLate: 2), 3, accuracy: 1e-12)
        XCTAssertEqual(LateRule.penaltyPerDay(percent: 10).apply(score: 4, maxScore: 5, daysLate: 20), 0)
    }
}
