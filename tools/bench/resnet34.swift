// Times a ResNet-34 (224×224, batch 1, eval mode) built from MiniNet's layers: forward, and
// forward + backward to the input without parameter gradients, as the explanations run it.
// Compiled and run by tools/bench/resnet34.sh against the release build of the library.
//
// The stem's max pooling has no padding (MiniNet's MaxPool2d has none yet), so layer1 sees
// 55×55 instead of 56×56; resnet34_torch.py uses the same unpadded pooling.
import Foundation
import MiniNet

/// A cheap deterministic generator (xorshift), so that building the network takes no time.
struct XorShift: RandomNumberGenerator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
nonisolated(unsafe) var generator = XorShift()

func convolution(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0) -> Conv2d {
    let count = outputChannels * inputChannels * kernelSize * kernelSize
    let std = (2 / Float(inputChannels * kernelSize * kernelSize)).squareRoot()
    let weight = Tensor(shape: [outputChannels, inputChannels, kernelSize, kernelSize],
                        data: (0..<count).map { _ in Float.random(in: -std...std, using: &generator) })
    return Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize,
                  stride: stride, padding: padding, bias: false, weight: weight)
}

/// torchvision's BasicBlock: conv 3×3 → BN → ReLU → conv 3×3 → BN, plus the shortcut, then ReLU.
func basicBlock(_ inputChannels: Int, _ outputChannels: Int, stride: Int) -> Residual {
    let body: [(String, Layer)] = [
        ("conv1", convolution(inputChannels, outputChannels, kernelSize: 3, stride: stride, padding: 1)),
        ("bn1", BatchNorm2d(channels: outputChannels)),
        ("relu", ReLU()),
        ("conv2", convolution(outputChannels, outputChannels, kernelSize: 3, padding: 1)),
        ("bn2", BatchNorm2d(channels: outputChannels)),
    ]
    var shortcut: (String, Layer)?
    if stride != 1 || inputChannels != outputChannels {
        shortcut = ("downsample", Sequential([convolution(inputChannels, outputChannels, kernelSize: 1, stride: stride),
                                              BatchNorm2d(channels: outputChannels)]))
    }
    return Residual(body: body, shortcut: shortcut, activation: ("relu2", ReLU()))
}

func resNet34() -> Sequential {
    var layers: [(String, Layer)] = [
        ("conv1", convolution(3, 64, kernelSize: 7, stride: 2, padding: 3)),
        ("bn1", BatchNorm2d(channels: 64)),
        ("relu", ReLU()),
        ("maxpool", MaxPool2d(kernelSize: 3, stride: 2)),
    ]
    var inputChannels = 64
    for (stage, (channels, blocks)) in [(64, 3), (128, 4), (256, 6), (512, 3)].enumerated() {
        var stageBlocks: [Layer] = []
        for block in 0..<blocks {
            stageBlocks.append(basicBlock(inputChannels, channels, stride: block == 0 && stage > 0 ? 2 : 1))
            inputChannels = channels
        }
        layers.append(("layer\(stage + 1)", Sequential(stageBlocks)))
    }
    let classifier = Linear(inputFeatures: 512, outputFeatures: 1000)
    classifier.weight.value = Tensor(shape: [1000, 512], data: (0..<512_000).map { _ in Float.random(in: -0.04...0.04, using: &generator) })
    layers += [("avgpool", GlobalAveragePool()), ("flatten", Flatten()), ("fc", classifier)]
    return Sequential(named: layers)
}

MiniNet.configureAllocator()
Gemm.setThreads(2)
let repeats = Int(ProcessInfo.processInfo.environment["REPEATS"] ?? "") ?? 10
let network = resNet34()
network.assignNames()
network.setTraining(false)
network.setParameterGradients(false)
let input = Tensor(shape: [1, 3, 224, 224], data: (0..<(3 * 224 * 224)).map { _ in Float.random(in: -2...2, using: &generator) })
var logitsGradient = Tensor(zeros: [1, 1000])
logitsGradient.data[0] = 1

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

// One warm-up pass, so that buffers and OpenBLAS threads exist before timing.
_ = network.backward(network.forward(input) * 0 + logitsGradient)

var forwardTimes: [Double] = []
var forwardBackwardTimes: [Double] = []
var checksum: Float = 0
for _ in 0..<repeats {
    forwardTimes.append(seconds { checksum += network.forward(input).data[0] })
    forwardBackwardTimes.append(seconds {
        _ = network.forward(input)
        checksum += network.backward(logitsGradient).data[0]
    })
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
print("{\"forward_median\": \(median(forwardTimes)), \"forward_min\": \(forwardTimes.min()!), "
      + "\"forward_backward_median\": \(median(forwardBackwardTimes)), \"forward_backward_min\": \(forwardBackwardTimes.min()!), "
      + "\"checksum\": \(checksum)}")
