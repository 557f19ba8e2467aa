import CFuzzerDriver
import Foundation
import FuzzSupport
import MiniNet

// Harness for the answers-file parser (JSON and `name = value` text), as `tutor homework
// check` and `grade` read a student's file: UTF-8 first, then the parser. AnswersFile.swift
// beside this file is a link to Sources/Lessons/Homework/AnswersFile.swift (Package.swift
// says why). A thrown error is the right answer to a bad file; only a trap, a crash, a hang
// or a memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = count == 0 ? Data() : Data(bytes: start!, count: count)
    guard let text = String(data: data, encoding: .utf8) else { return 0 }
    _ = attempt { try AnswersFile.parse(text, name: "fuzz.json") }
    return 0
}

// libFuzzer's loop; CFuzzerDriver says why main starts it.
exit(tutor_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
