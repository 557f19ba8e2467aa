"""The PyTorch twin of resnet34.swift, for tools/bench/resnet34.sh: torchvision's ResNet-34,
224×224, batch 1, eval mode, 2 threads. Forward under no_grad; forward + backward to the input
with the parameters frozen (requires_grad False), as the explanations run it. The stem's max
pooling is unpadded, as in the Swift benchmark. Prints one JSON line.
"""
import json
import sys
import time

import torch
import torchvision

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
torch.set_num_threads(2)
model = torchvision.models.resnet34()
model.maxpool = torch.nn.MaxPool2d(3, 2)
model.eval()
for parameter in model.parameters():
    parameter.requires_grad_(False)
image = torch.empty(1, 3, 224, 224).uniform_(-2, 2)


def forward():
    with torch.no_grad():
        model(image)


def forward_backward():
    x = image.clone().requires_grad_(True)
    model(x)[0, 0].backward()


def seconds(body):
    start = time.perf_counter()
    body()
    return time.perf_counter() - start


forward(); forward_backward()  # warm-up
forward_times, forward_backward_times = [], []
for _ in range(repeats):
    forward_times.append(seconds(forward))
    forward_backward_times.append(seconds(forward_backward))
median = lambda values: sorted(values)[len(values) // 2]
print(json.dumps({"forward_median": median(forward_times), "forward_min": min(forward_times),
                  "forward_backward_median": median(forward_backward_times),
                  "forward_backward_min": min(forward_backward_times), "torch": torch.__version__}))
