import CFuzzerDriver
import Foundation
import FuzzSupport
@testable import MiniNet

// Harness for the unpickler: the bytes of one .pth checkpoint read as `--weights x.pth` would
// (zip or legacy container, pickles, storages, tensor views), then checked as ResNet weights.
// A raw pickle stream (first byte PROTO) is also run directly as a state_dict pickle with
// storage references, so that the fuzzer reaches the unpickler without first having to find
// torch's magic-number pickle. A thrown error is the right answer to a bad file; only a trap,
// a crash, a hang or a memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 ? [] : Array(UnsafeBufferPointer(start: start, count: count))
    if let entries = attempt({ try TorchCheckpoint.read(bytes: bytes, describedAs: "fuzz.pth") }) {
        // Then as torchvision ResNet weights, at the smallest picture ResNets accept.
        _ = attempt { try PretrainedResNet.load(stateDict: PretrainedResNet.stateDict(entries), path: "fuzz.pth", imageSize: 16) }
    }
    if bytes.first == 0x80 {
        let table = TorchCheckpoint.StorageTable()
        if let (object, _) = attempt({ try TorchCheckpoint.unpickle(bytes, from: 0, what: "fuzz.pkl", persistentLoad: table.load) }) {
            _ = object.summary()
            _ = attempt { try TorchCheckpoint.stateDictionary(object) }
        }
    }
    return 0
}

// libFuzzer's loop; CFuzzerDriver says why main starts it.
exit(tutor_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
