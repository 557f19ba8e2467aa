"""A full-size torchvision ResNet with seeded random weights, for benchmarks and by-hand parity checks.

Real ImageNet weights cannot be downloaded on the build machine, so this writes what a trained
checkpoint looks like structurally: torchvision's resnet18/34/50 with its own initialisation
(seeded), every BatchNorm given random γ ~ U(0.5, 1.5), β ~ U(−0.2, 0.2) and running statistics
measured on smooth random 224×224 pictures (so eval-mode BatchNorm really normalises), saved as
a torch.save zip state_dict with the usual keys (num_batches_tracked int64 included).

    /root/refenv/bin/python tools/bench/make_resnet_weights.py --model resnet34 resnet34.pth \
        [--seed 0] [--image picture.npy]

--image also writes one smooth, already normalised 224×224 picture [1, 3, 224, 224] float32 for
tools/bench/bench_torch.py.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import resnet_reference as reference  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="where to write the .pth (zip format)")
    parser.add_argument("--model", default="resnet34", choices=sorted(reference.ARCHITECTURES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image", help="also write a [1, 3, 224, 224] float32 picture here (.npy)")
    arguments = parser.parse_args()
    torch.set_num_threads(2)
    model = reference.build_fullsize(arguments.model, seed=arguments.seed)
    torch.save(model.state_dict(), arguments.out + ".tmp")
    os.replace(arguments.out + ".tmp", arguments.out)
    print(arguments.out, os.path.getsize(arguments.out), "bytes")
    if arguments.image:
        picture = reference.smooth_images(torch.Generator().manual_seed(arguments.seed + 7), 1, 224).numpy()
        with open(arguments.image + ".tmp", "wb") as handle:
            np.save(handle, picture)
        os.replace(arguments.image + ".tmp", arguments.image)
        print(arguments.image, picture.shape)


if __name__ == "__main__":
    main()
