import CFuzzerDriver
import Foundation
import FuzzSupport
@testable import MiniNet

// Harness for the PNG decoder (CPNG's tutor_png_decode_rgb, libpng underneath): the bytes of
// one PNG file, decoded as `tutor explain picture.png` would. A thrown error is the right
// answer to a bad file; only a trap, a crash, a hang or a memory blow-up is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 ? [] : Array(UnsafeBufferPointer(start: start, count: count))
    _ = attempt { try RGBImage.decodePNG(bytes, path: "fuzz.png") }
    return 0
}

// libFuzzer's loop; CFuzzerDriver says why main starts it.
exit(tutor_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
