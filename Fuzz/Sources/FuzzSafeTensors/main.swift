import CFuzzerDriver
import Foundation
import FuzzSupport
@testable import MiniNet

// Harness for the safetensors reader and then for the checks that run before any layer is
// built: a tutor model file's (when the file carries tutor's architecture in its metadata, as
// `--weights model.safetensors` would), or torchvision ResNet weights' otherwise (as `--weights
// resnet.safetensors`). A thrown error is the right answer to a bad file; only a trap, a
// crash, a hang or a memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = count == 0 ? Data() : Data(bytes: start!, count: count)
    let path = "fuzz.safetensors"
    guard let file = attempt({ try SafeTensorsFile.decode(data, path: path) }) else { return 0 }
    if file.metadata[ImageClassifier.metadataKey] != nil {
        _ = attempt { try ImageClassifier.load(file, path: path) }
    } else {
        // The smallest picture ResNets accept, so that a file that loads costs little.
        _ = attempt { try PretrainedResNet.load(stateDict: PretrainedResNet.stateDict(file.tensors), path: path, imageSize: 16) }
    }
    return 0
}

// libFuzzer's loop; CFuzzerDriver says why main starts it.
exit(tutor_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
