// The class list a teacher exports from a spreadsheet or a learning platform, and the file
// names made from its student ids.

import Crypto
import Foundation
import MiniNet

/// One student on the roster.
public struct RosterEntry: Equatable, Sendable {
    /// The student id, in Unicode NFC: the id the numbers are drawn for.
    public var id: String
    public var name: String
    public var email: String
    /// The roster line the student's row starts on (1 = the header).
    public var line: Int
}

/// Every problem of a roster at once, one line each, so the teacher fixes them in one pass.
public struct RosterError: Error, CustomStringConvertible, Equatable {
    public var fileName: String
    /// "line 4: …", in file order.
    public var problems: [String]

    /// One line per problem, each naming the file.
    public var lines: [String] { problems.map { "\(fileName): \($0)" } }

    public var description: String {
        let first = lines.first ?? "\(fileName): " + translated("is not a roster")
        switch problems.count {
        case ...1: return first
        case 2: return translated("{$1} (and 1 more problem)", with: first)
        default: return translated("{$1} (and {$2} more problems)", with: first, problems.count - 1)
        }
    }
}

/// A class list read from CSV: a header with an `id` column (or `student_id`), optionally
/// `name` and `email` columns; other columns are ignored.
///
/// Read as spreadsheets write it (RFC 4180): UTF-8 with or without a byte order mark, line ends
/// CRLF, LF or CR, fields in double quotes holding commas, line breaks and doubled quotes.
/// Blank rows are skipped. Ids are trimmed and normalised to NFC, so "nguyễn" typed with a
/// combining accent is the same student as with the precomposed letter.
public struct Roster: Equatable, Sendable {
    public static let maximumFileBytes = 4 << 20
    public static let maximumStudents = 20_000

    public var students: [RosterEntry]

    public init(students: [RosterEntry]) {
        self.students = students
    }

    public func student(withID id: String) -> RosterEntry? {
        let normalised = id.precomposedStringWithCanonicalMapping
        return students.first { $0.id == normalised }
    }

    public static func read(from path: String) throws -> Roster {
        let name = escapedForMessage(path)
        _ = try inReadersLanguage { try RegularFile.check(path, maximumBytes: maximumFileBytes) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MiniNetError.file(name, translated("cannot be read (permission denied or I/O error)"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MiniNetError.file(name, translated("is not UTF-8 text; save the roster as \"CSV UTF-8\""))
        }
        return try parse(text, name: name)
    }

    /// Parses roster text; `name` labels the messages. Throws `RosterError` listing every bad row.
    public static func parse(_ text: String, name: String) throws -> Roster {
        let records: [CSVRecord]
        do {
            records = try CSVRecord.parse(text)
        } catch let error as CSVRecord.Problem {
            throw RosterError(fileName: name, problems: [translated(error.message)])
        }
        guard let header = records.first else {
            throw RosterError(fileName: name, problems: [translated("is empty: the first line must name the columns, such as id,name,email")])
        }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let idColumn = columns.firstIndex(of: "id") ?? columns.firstIndex(of: "student_id") else {
            throw RosterError(fileName: name, problems: [
                translated("line {$1}: {$2}", with: header.line, translated("the header `{$1}` has no `id` column; the first line must name the columns, such as id,name,email", with:
                                                              boundedSummary(header.fields.joined(separator: ",")))),
            ])
        }
        let nameColumn = columns.firstIndex(of: "name")
        let emailColumn = columns.firstIndex(of: "email")

        var problems = [String]()
        var students = [RosterEntry]()
        var lineOfID = [String: Int]()
        for record in records.dropFirst() {
            let fields = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.allSatisfy(\.isEmpty) { continue }
            let located = { (problem: String) in translated("line {$1}: {$2}", with: record.line, problem) }
            // Spreadsheets may drop trailing empty cells or add empty ones; only data past the header is wrong.
            if fields.count > columns.count, fields[columns.count...].contains(where: { !$0.isEmpty }) {
                problems.append(located(translated("{$1} fields, but the header names {$2} columns", with: fields.count, columns.count)))
                continue
            }
            func field(_ index: Int?) -> String { index.flatMap { $0 < fields.count ? fields[$0] : nil } ?? "" }
            let id = field(idColumn).precomposedStringWithCanonicalMapping
            if id.isEmpty {
                problems.append(located(translated("the id is empty")))
                continue
            }
            guard id.unicodeScalars.count <= AnswerFileLimits.standard.nameLength, escapedForMessage(id) == id else {
                problems.append(located(translated("id `{$1}` is not a student id (at most {$2} characters, no control characters)", with:
                                               boundedSummary(id), AnswerFileLimits.standard.nameLength)))
                continue
            }
            do {
                try HomeworkCatalog.validateStudentID(id)
            } catch {
                problems.append(located("\(error)"))
                continue
            }
            if let earlier = lineOfID[id] {
                problems.append(located(translated("id `{$1}` is already on line {$2}", with: id, earlier)))
                continue
            }
            guard students.count < maximumStudents else {
                problems.append(located(translated("more than {$1} students", with: maximumStudents)))
                break
            }
            lineOfID[id] = record.line
            students.append(RosterEntry(id: id, name: oneLine(field(nameColumn)), email: oneLine(field(emailColumn)), line: record.line))
        }
        if !problems.isEmpty { throw RosterError(fileName: name, problems: problems) }
        if students.isEmpty {
            throw RosterError(fileName: name, problems: [translated("has a header but no students")])
        }
        return Roster(students: students)
    }
}

/// A name as one line: a line break inside a spreadsheet cell, or any other control or
/// invisible format character, becomes a space, and runs of spaces become one.
func oneLine(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            if !result.isEmpty && !result.hasSuffix(" ") { result += " " }
        default:
            result.unicodeScalars.append(scalar)
        }
    }
    return result.hasSuffix(" ") ? String(result.dropLast()) : result
}

/// One CSV record with the line it starts on.
struct CSVRecord: Equatable {
    var fields: [String]
    var line: Int

    struct Problem: Error { var message: String }

    /// RFC 4180 records. A quote inside an unquoted field is kept as it is, as Python's csv
    /// module does; a quoted field that never closes is an error naming the line it opened on.
    static func parse(_ text: String) throws -> [CSVRecord] {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var records = [CSVRecord]()
        var fields = [String]()
        var field = String.UnicodeScalarView()
        var line = 1, recordLine = 1
        var index = 0
        var atFieldStart = true

        func endRecord() {
            fields.append(String(field))
            records.append(CSVRecord(fields: fields, line: recordLine))
            fields = []
            field = String.UnicodeScalarView()
            atFieldStart = true
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if atFieldStart && scalar == "\"" {
                let openedOn = line
                index += 1
                var closed = false
                while index < scalars.count {
                    let inner = scalars[index]
                    if inner == "\"" {
                        if index + 1 < scalars.count, scalars[index + 1] == "\"" {
                            field.append("\"")
                            index += 2
                            continue
                        }
                        index += 1
                        closed = true
                        break
                    }
                    if inner == "\n" || (inner == "\r" && !(index + 1 < scalars.count && scalars[index + 1] == "\n")) { line += 1 }
                    field.append(inner)
                    index += 1
                }
                guard closed else { throw Problem(message: "line \(openedOn): a quoted field is not closed") }
                atFieldStart = false
                continue
            }
            atFieldStart = false
            switch scalar {
            case ",":
                fields.append(String(field))
                field = String.UnicodeScalarView()
                atFieldStart = true
                index += 1
            case "\r", "\n":
                endRecord()
                index += scalar == "\r" && index + 1 < scalars.count && scalars[index + 1] == "\n" ? 2 : 1
                line += 1
                recordLine = line
            default:
                field.append(scalar)
                index += 1
            }
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}

/// File names made from student ids: safe on Linux, macOS and Windows, and unique even where
/// the file system ignores case.
public enum StudentFileNames {
    /// Bytes kept from the id before the suffix; a file name may have 255.
    static let maximumBaseBytes = 100

    /// The file name stem of every id (`alice` → `alice`).
    ///
    /// An id is kept as it is (in NFC) when it is made only of letters (any script), digits,
    /// '-', '_' and '.', does not start or end with '.', is not a Windows device name (CON,
    /// NUL, COM1, …), and no other id equals it when case is ignored. Otherwise every other
    /// character becomes '_' and "-" plus the first 8 hex digits of SHA-256(id) is appended,
    /// so `a/b` and `a?b`, or `Alice` and `alice`, still get two files.
    public static func stems(for ids: [String]) throws -> [String: String] {
        var bases = [String: String]()
        var altered = Set<String>()
        var idsByFolded = [String: [String]]()
        for id in ids {
            let base = safeBase(id)
            bases[id] = base
            if base != id { altered.insert(id) }
            idsByFolded[base.lowercased(), default: []].append(id)
        }
        var stems = [String: String]()
        var taken = Set<String>()
        for id in ids {
            let base = bases[id]!
            let clashes = (idsByFolded[base.lowercased()]?.count ?? 0) > 1
            let stem = altered.contains(id) || clashes ? base + "-" + digest(id) : base
            guard taken.insert(stem.lowercased()).inserted else {
                throw MiniNetError.invalidArgument(translated("the student ids `{$1}` and another one give the same file name {$2}", with: boundedSummary(id), stem))
            }
            stems[id] = stem
        }
        return stems
    }

    /// The id with unsafe characters replaced, cut at `maximumBaseBytes` UTF-8 bytes.
    static func safeBase(_ id: String) -> String {
        var result = ""
        var bytes = 0
        for character in id.precomposedStringWithCanonicalMapping {
            let isSafe = character.isLetter || character.isNumber || "-_.".contains(character)
            let kept = isSafe && character.unicodeScalars.allSatisfy { !$0.properties.isDefaultIgnorableCodePoint } ? String(character) : "_"
            bytes += kept.utf8.count
            if bytes > maximumBaseBytes { break }
            result += kept
        }
        if result.isEmpty { result = "_" }
        if result.hasPrefix(".") { result = "_" + result.dropFirst() }
        if result.hasSuffix(".") { result = result.dropLast() + "_" }
        let device = result.split(separator: ".", maxSplits: 1).first.map { $0.uppercased() } ?? ""
        let windowsDevices = Set(["CON", "PRN", "AUX", "NUL"] + (1...9).flatMap { ["COM\($0)", "LPT\($0)"] })
        if windowsDevices.contains(device) { result = "_" + result }
        return result
    }

    /// The first 4 bytes of SHA-256 of the id's UTF-8, in hex.
    static func digest(_ id: String) -> String {
        SHA256.hash(data: Data(id.precomposedStringWithCanonicalMapping.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }
}
