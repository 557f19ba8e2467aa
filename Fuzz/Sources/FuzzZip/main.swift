import CFuzzerDriver
import Foundation
import FuzzSupport
@testable import MiniNet

// Harness for the zip reader of .pth checkpoints (StoredZipArchive): the directory, then every
// entry's bytes with their CRC-32 check, as TorchCheckpoint reads them. A thrown error is the
// right answer to a bad file; only a trap, a crash, a hang or a memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 ? [] : Array(UnsafeBufferPointer(start: start, count: count))
    guard let archive = attempt({ try StoredZipArchive(bytes: bytes) }) else { return 0 }
    for entry in archive.entries {
        _ = archive[entry.name]
        _ = attempt { try TorchCheckpoint.contents(of: entry, in: bytes) }
    }
    return 0
}

// libFuzzer's loop; CFuzzerDriver says why main starts it.
exit(tutor_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
