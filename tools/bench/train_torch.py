"""The PyTorch twin of `tutor train`, for the speed comparison in tools/bench/train.sh.

Same architecture (3 conv blocks with BatchNorm, global average pooling, one linear layer),
same data (exported by `tutor dataset`), same epochs, batch size, optimiser (Adam) and
cosine learning-rate schedule, 2 threads. Prints one JSON line.
"""
import json
import sys
import time

import numpy as np
import torch

folder, epochs, batch_size, learning_rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
torch.set_num_threads(2)
torch.manual_seed(1)
nn = torch.nn

started = time.perf_counter()
x = torch.tensor((np.load(f"{folder}/train_x.npy") - 0.5) / 0.25)
y = torch.tensor(np.load(f"{folder}/train_y.npy")).long()
vx = torch.tensor((np.load(f"{folder}/val_x.npy") - 0.5) / 0.25)
vy = torch.tensor(np.load(f"{folder}/val_y.npy")).long()

layers, channels = [], 3
for index, out in enumerate([8, 16, 32]):
    layers += [nn.Conv2d(channels, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
    if index < 2:
        layers.append(nn.MaxPool2d(2))
    channels = out
model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
batches = (len(x) + batch_size - 1) // batch_size
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * batches)

train_started = time.perf_counter()
accuracy = 0.0
for epoch in range(epochs):
    model.train()
    order = torch.randperm(len(x))
    for start in range(0, len(x), batch_size):
        members = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x[members]), y[members])
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(vx).argmax(1) == vy).float().mean().item()
finished = time.perf_counter()
print(json.dumps({"seconds": finished - train_started, "total_seconds": finished - started,
                  "val_accuracy": accuracy, "torch": torch.__version__}))
