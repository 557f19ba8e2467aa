// A course: the teacher's secret that makes homework numbers unpredictable to students.
//
// Practice mode seeds every exercise with FNV-1a("exercise/student"): anyone can run
// `tutor homework key cam-2 --student alice` and print alice's answers. A course replaces that
// seed with a keyed one, HMAC-SHA256(secret, "exercise/student"), so only the holder of the
// course file (the teacher) can compute a student's numbers, and with them the key.

import Crypto
import Foundation
import MiniNet

/// Where an exercise's numbers come from, shown on every sheet and result.
public enum HomeworkMode: Equatable, Sendable {
    /// Numbers from FNV-1a("exercise/student"): anyone can reproduce them, keys included.
    case practice
    /// Numbers from a course secret; `id` is the course's public fingerprint (`Course.id`).
    case course(name: String, id: String)

    /// "practice", or "course NAME, id …".
    public var label: String {
        switch self {
        case .practice: return translated("practice")
        case let .course(name, id): return translated("course {$1}, id {$2}", with: name, id)
        }
    }

    public var isPractice: Bool { self == .practice }
}

/// What happens to a submission that arrives after its due date.
public enum LateRule: Equatable, Sendable {
    /// Marked late in the gradebook; the score is kept.
    case markOnly
    /// `percent` of the exercise's maximum score is taken off for every started day late
    /// (the score never goes below 0), as Canvas's "deduct per day" late policy does.
    case penaltyPerDay(percent: Double)
    /// A late submission scores 0.
    case zero

    /// The score after the rule, for a submission `daysLate` started days late (0 = on time).
    ///
    ///     penalty per day p%:  max(0, score − days · p/100 · maxScore)
    public func apply(score: Double, maxScore: Double, daysLate: Int) -> Double {
        guard daysLate > 0 else { return score }
        switch self {
        case .markOnly: return score
        case let .penaltyPerDay(percent): return max(0, score - Double(daysLate) * percent / 100 * maxScore)
        case .zero: return 0
        }
    }

    /// "late work is marked, not penalised", "10% of the points per day late", "late work scores 0".
    public var description: String {
        switch self {
        case .markOnly: return translated("late work is marked, not penalised")
        case let .penaltyPerDay(percent): return translated("{$1}% of the exercise's points off per started day late", with: formatNumber(percent))
        case .zero: return translated("late work scores 0")
        }
    }
}

/// A course file: its name, its 256-bit secret, due dates and the late rule.
///
/// On disk it is JSON, readable by its owner only (mode 0600):
///
///     {"format": "tutor-homework-course", "version": 1, "name": "XAI 2026",
///      "secret": "<64 hex digits>", "due": "2026-03-01T23:59:59+07:00",
///      "due_by_exercise": {"ig-3": "2026-03-08T23:59:59+07:00"},
///      "late": {"rule": "penalty", "percent_per_day": 10}}
public struct Course: Sendable {
    public static let formatName = "tutor-homework-course"
    public static let formatVersion = 1
    /// Course files are a few hundred bytes; anything far larger is not one.
    public static let maximumFileBytes = 64 * 1024
    public static let maximumNameLength = 200

    public var name: String
    /// The 32 secret bytes (kept as Data, which is Sendable; a SymmetricKey is made for each use).
    let secret: Data
    /// When every exercise is due, unless `dueByExercise` names it; nil: no due date.
    public var due: Date?
    public var dueByExercise: [String: Date]
    public var lateRule: LateRule

    /// A course with `secret` (32 bytes); for a new course use `Course.new`.
    public init(name: String, secret: Data, due: Date? = nil, dueByExercise: [String: Date] = [:],
                lateRule: LateRule = .markOnly) throws {
        guard secret.count == 32 else {
            throw MiniNetError.invalidArgument(translated("a course secret has 32 bytes (256 bits), not {$1}", with: secret.count))
        }
        self.name = name
        self.secret = secret
        self.due = due
        self.dueByExercise = dueByExercise
        self.lateRule = lateRule
    }

    /// A new course with a fresh secret: 256 bits from the system's cryptographically secure
    /// random generator (swift-crypto's `SymmetricKey(size: .bits256)`).
    public static func new(name: String, due: Date? = nil, dueByExercise: [String: Date] = [:],
                           lateRule: LateRule = .markOnly) -> Course {
        let key = SymmetricKey(size: .bits256)
        // 32 bytes by construction, so the throwing init cannot fail.
        return try! Course(name: name, secret: key.withUnsafeBytes { Data($0) }, due: due,
                           dueByExercise: dueByExercise, lateRule: lateRule)
    }

    /// The seed of a student's exercise in this course.
    ///
    ///     mac  = HMAC-SHA256(secret, UTF-8("exercise/student"))      (32 bytes)
    ///     seed = mac[0] · 256⁷ + mac[1] · 256⁶ + … + mac[7]            (first 8 bytes, big-endian)
    ///
    /// HMAC with an unknown key is a pseudo-random function: without the secret, the seed of
    /// one (exercise, student) pair says nothing about another's. The student id is taken in
    /// Unicode NFC, so "nguyễn" typed with a combining accent gets the same numbers.
    public func seed(exercise: String, student: String) -> UInt64 {
        let message = exercise + "/" + student.precomposedStringWithCanonicalMapping
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: secret))
        return mac.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The course's public fingerprint, printed on sheets so that a sheet, a submission and a
    /// course file can be matched: the first 8 bytes of HMAC-SHA256(secret, "tutor course id"),
    /// in hex. The message has no "/", so it is never the message of an exercise seed.
    public var id: String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("tutor course id".utf8), using: SymmetricKey(data: secret))
        return mac.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    public var mode: HomeworkMode { .course(name: name, id: id) }

    /// When `exercise` is due: its own date, else the course's, else nil.
    public func due(for exercise: String) -> Date? {
        dueByExercise[exercise] ?? due
    }

    // MARK: - The file

    /// The course file's JSON; dates keep the offset of `timeZone`.
    public func fileText(timeZone: TimeZone = .current) -> String {
        var members: [(String, JSONOutput)] = [
            ("format", .string(Course.formatName)), ("version", .number(Double(Course.formatVersion))),
            ("name", .string(name)),
            ("secret", .string(secret.map { String(format: "%02x", $0) }.joined())),
        ]
        if let due { members.append(("due", .string(CourseDates.format(due, timeZone: timeZone)))) }
        if !dueByExercise.isEmpty {
            members.append(("due_by_exercise", .object(dueByExercise.keys.sorted().map {
                ($0, .string(CourseDates.format(dueByExercise[$0]!, timeZone: timeZone)))
            })))
        }
        let late: [(String, JSONOutput)]
        switch lateRule {
        case .markOnly: late = [("rule", .string("mark"))]
        case .zero: late = [("rule", .string("zero"))]
        case let .penaltyPerDay(percent): late = [("rule", .string("penalty")), ("percent_per_day", .number(percent))]
        }
        members.append(("late", .object(late)))
        return JSONOutput.object(members).rendered() + "\n"
    }

    /// Writes the course file readable and writable by its owner only (mode 0600, less the
    /// umask), atomically; an existing file is kept unless `replacing` (its secret, and with it
    /// every student's numbers, would be lost).
    public func write(to path: String, replacing: Bool = false) throws {
        try inReadersLanguage { try writeFileAtomically(Data(fileText().utf8), to: path, permissions: 0o600, replacing: replacing) }
    }

    /// Reads a course file. It must be a regular file that only its owner can read or change,
    /// as OpenSSH demands of a private key: anyone who can read the secret can print every
    /// student's answer key, and anyone who can change it can change every student's numbers.
    public static func read(from path: String) throws -> Course {
        let name = escapedForMessage(path)
        _ = try inReadersLanguage { try RegularFile.check(path, maximumBytes: maximumFileBytes) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw MiniNetError.file(name, translated("cannot be read")) }
        let openBits = info.st_mode & 0o077
        if openBits != 0 {
            let mode = String(info.st_mode & 0o777, radix: 8)
            let command = "chmod 600 \(boundedSummary(path, limit: 80))"
            throw MiniNetError.file(name, openBits & 0o007 != 0
                ? translated("can be read or changed by every user (mode {$1}); the course secret must be private: run `{$2}`", with: mode, command)
                : translated("can be read or changed by the file's group (mode {$1}); the course secret must be private: run `{$2}`", with: mode, command))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MiniNetError.file(name, translated("cannot be read (permission denied or I/O error)"))
        }
        return try parse(data, name: name)
    }

    /// Parses a course file's bytes; `name` labels the error messages.
    public static func parse(_ data: Data, name: String) throws -> Course {
        func problem(_ text: String) -> MiniNetError { MiniNetError.file(name, text) }
        guard data.count <= maximumFileBytes else { throw problem(translated("is over {$1} bytes: not a course file", with: maximumFileBytes)) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw problem(translated("is not a course file (not a JSON object); `tutor homework course new` writes one"))
        }
        guard object["format"] as? String == formatName else {
            throw problem(translated("is not a course file (its `format` is not \"{$1}\"); `tutor homework course new` writes one", with: formatName))
        }
        guard let version = object["version"] as? Int else { throw problem(translated("`version` is missing or not a whole number")) }
        guard version == formatVersion else {
            throw problem(translated("is a course file of version {$1}; this tutor reads version {$2}", with: version, formatVersion))
        }
        guard let courseName = object["name"] as? String, !courseName.isEmpty,
              courseName.count <= maximumNameLength, escapedForMessage(courseName) == courseName else {
            throw problem(translated("`name` must be text of 1 to {$1} characters without control characters", with: maximumNameLength))
        }
        guard let hex = object["secret"] as? String, let secret = Data(hexDigits: hex), secret.count == 32 else {
            throw problem(translated("`secret` must be 64 hex digits (256 bits)"))
        }
        var due: Date?
        if let value = object["due"] {
            guard let text = value as? String, let date = CourseDates.parseTimestamp(text) else {
                throw problem(translated("`due` must be a date and time such as 2026-03-01T23:59:59+07:00"))
            }
            due = date
        }
        var dueByExercise = [String: Date]()
        if let value = object["due_by_exercise"] {
            guard let dates = value as? [String: Any] else { throw problem(translated("`due_by_exercise` must map exercise ids to dates")) }
            for (exercise, value) in dates {
                guard HomeworkCatalog.template(id: exercise) != nil else {
                    throw problem(translated("`due_by_exercise` names `{$1}`, which is not an exercise id", with: boundedSummary(exercise)))
                }
                guard let text = value as? String, let date = CourseDates.parseTimestamp(text) else {
                    throw problem(translated("`due_by_exercise`: `{$1}` must be a date and time such as 2026-03-01T23:59:59+07:00", with: exercise))
                }
                dueByExercise[exercise] = date
            }
        }
        let lateRule: LateRule
        let late = object["late"] as? [String: Any] ?? ["rule": "mark"]
        switch late["rule"] as? String {
        case "mark": lateRule = .markOnly
        case "zero": lateRule = .zero
        case "penalty":
            guard let percent = (late["percent_per_day"] as? NSNumber)?.doubleValue, percent > 0, percent <= 100 else {
                throw problem(translated("`late`: `percent_per_day` must be a number above 0 and at most 100"))
            }
            lateRule = .penaltyPerDay(percent: percent)
        default:
            throw problem(translated("`late`: `rule` must be \"mark\", \"penalty\" or \"zero\""))
        }
        return try Course(name: courseName, secret: secret, due: due, dueByExercise: dueByExercise, lateRule: lateRule)
    }
}

/// Due dates as a person types them and as the course file keeps them.
public enum CourseDates {
    /// "2026-03-01" (the end of that day, 23:59:59, in `timeZone`) or a full ISO 8601
    /// timestamp with its offset, "2026-03-01T12:00:00+07:00" or "…Z"; nil for anything else.
    public static func parseDue(_ text: String, timeZone: TimeZone = .current) -> Date? {
        if let date = parseTimestamp(text) { return date }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = DateComponents(year: year, month: month, day: day, hour: 23, minute: 59, second: 59)
        guard let date = calendar.date(from: components),
              calendar.dateComponents([.year, .month, .day], from: date) == DateComponents(year: year, month: month, day: day) else {
            return nil  // 2026-02-30 is not rolled over into March
        }
        return date
    }

    /// An ISO 8601 timestamp with an offset or Z; nil otherwise.
    public static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// "2026-03-01T23:59:59+07:00".
    public static func format(_ date: Date, timeZone: TimeZone = .current) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = timeZone
        return formatter.string(from: date)
    }
}

extension Data {
    /// The bytes written by an even number of hex digits; nil for anything else.
    init?(hexDigits text: String) {
        guard text.count % 2 == 0, text.unicodeScalars.allSatisfy(\.properties.isASCIIHexDigit) else { return nil }
        var bytes = [UInt8]()
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
