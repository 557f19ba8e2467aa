import CFuzzerDriver
import Foundation
import FuzzSupport
@testable import MiniNet

// Harness for the safetensors reader and, when the file carries tutor's architecture in its
// metadata, for the model-file checks that run before any layer is built (as `--weights
// model.safetensors` would). A thrown error is the right answer to a bad file; only a trap,
// a crash, a hang or a memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = count == 0 ? Data() : Data(bytes: start!, count: count)
    guard let file = attempt({ try SafeTensorsFile.decode(data, path: "fuzz.safetensors") }) else { return 0 }
    if file.metadata[ImageClassifier.metadataKey] != nil {
        _ = attempt { try ImageClassifier.load(file, path: "fuzz.safetensors") }
    }
    return 0
}

// libFuzzer's loop; CFuzzerDriver says why main starts it.
exit(tutor_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
