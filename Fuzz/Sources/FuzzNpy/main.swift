import CFuzzerDriver
import Foundation
import FuzzSupport
@testable import MiniNet

// Harness for the .npy reader: the bytes of one file, decoded as `NumpyFile.read` would (the
// header, the shape against the file's size, the values). A thrown error is the right answer
// to a bad file; only a trap, a crash, a hang or a memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = count == 0 ? Data() : Data(bytes: start!, count: count)
    _ = attempt { try NumpyFile.decode(data, path: "fuzz.npy") }
    return 0
}

// libFuzzer's loop; CFuzzerDriver says why main starts it.
exit(tutor_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
