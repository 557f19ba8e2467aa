"""Full-size ResNet references for a by-hand comparison with the `tutor` CLI (outputs are not committed).

    /root/refenv/bin/python tools/parity/resnet_fullsize.py WEIGHTS IMAGE.png --model resnet34 --out DIR
        [--target CLASS] [--ig-batch 20]

WEIGHTS: a torchvision resnet18/34/50 state_dict (.pth zip or legacy, or .safetensors), for example
from tools/bench/make_resnet_weights.py. IMAGE.png: any photograph.

Preprocessing is torchvision's for these weights (ResNet*_Weights.IMAGENET1K_V1.transforms(), no
download involved): resize the shorter side to 256 (bilinear, antialiased), centre-crop 224×224,
bytes/255, subtract mean [0.485, 0.456, 0.406] and divide by std [0.229, 0.224, 0.225].

Writes into DIR (float32 .npy, batch dimension first), with the settings of
tools/fixtures/resnet_reference.py and target = argmax unless --target is given:
    input.npy                 [1, 3, 224, 224]   the preprocessed picture
    logits.npy                [1, classes]
    gradcam-weights.npy       [1, K]             K = 512 (resnet18/34) or 2048 (resnet50)
    gradcam-map.npy           [1, 7, 7]          ReLU(Σ_k α_k A^k) at layer4[-1], before resizing
    ablationcam-weights.npy   [1, K]             (y^c − y^c_k)/y^c
    ablationcam-scores.npy    [1, K]             y^c_k
    ablationcam-map.npy       [1, 7, 7]
    ig200.npy                 [1, 3, 224, 224]   Captum IG, zero baseline, gausslegendre, 200 steps
    lrp-epsilon.npy           [1, 3, 224, 224]   Zennit ResNetCanonizer + ε composite, R = one-hot · y
    summary.json              target, logit, IG convergence delta, relevance sums, versions
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import resnet_reference as reference  # noqa: E402

WEIGHT_ENUMS = {"resnet18": "ResNet18_Weights", "resnet34": "ResNet34_Weights", "resnet50": "ResNet50_Weights"}


def preprocess(path, model_name):
    transforms = getattr(torchvision.models, WEIGHT_ENUMS[model_name]).IMAGENET1K_V1.transforms()
    return transforms(Image.open(path).convert("RGB"))[None].contiguous()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights")
    parser.add_argument("image")
    parser.add_argument("--model", default="resnet34", choices=sorted(reference.ARCHITECTURES))
    parser.add_argument("--out", required=True)
    parser.add_argument("--target", type=int, help="class to explain (default: the predicted one)")
    parser.add_argument("--ig-batch", type=int, default=20, help="Captum internal_batch_size")
    arguments = parser.parse_args()
    torch.set_num_threads(2)
    os.makedirs(arguments.out, exist_ok=True)

    def save(name, array):
        path = os.path.join(arguments.out, name)
        with open(path + ".tmp", "wb") as handle:
            np.save(handle, np.ascontiguousarray(np.asarray(array, dtype=np.float32)))
        os.replace(path + ".tmp", path)
        print(path, np.asarray(array).shape)

    model = reference.load_torchvision(arguments.model, arguments.weights)
    x = preprocess(arguments.image, arguments.model)
    save("input.npy", x)
    with torch.no_grad():
        logits = model(x)
    save("logits.npy", logits)
    target = int(logits.argmax()) if arguments.target is None else arguments.target

    for method, run in [("gradcam", reference.gradcam), ("ablationcam", reference.ablationcam)]:
        weights, raw_map, scores, _ = run(model, x, target)
        save(f"{method}-weights.npy", weights)
        save(f"{method}-map.npy", raw_map)
        if scores is not None:
            save(f"{method}-scores.npy", scores)

    attributions, delta = reference.integrated_gradients(model, x, target, "gausslegendre", 200, arguments.ig_batch)
    save("ig200.npy", attributions)
    relevance, canonized, sums = reference.lrp_epsilon(model, x, target)
    save("lrp-epsilon.npy", relevance)

    summary = {"weights": arguments.weights, "image": arguments.image, "model": arguments.model,
               "preprocessing": f"torchvision.models.{WEIGHT_ENUMS[arguments.model]}.IMAGENET1K_V1.transforms()",
               "target": target, "logit": float(logits[0, target]),
               "layer4_output_minimum": reference.layer4_minimum(model, x),
               "ig": {"method": "gausslegendre", "n_steps": 200, "baseline": "zeros",
                      "internal_batch_size": arguments.ig_batch, "convergence_delta": delta},
               "lrp": {"epsilon": reference.EPSILON, "relevance_sum": float(relevance.double().sum()),
                       "canonized_logit": float(canonized[0, target]), "relevance_sum_at_module_output": sums},
               "versions": reference.versions()}
    with open(os.path.join(arguments.out, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
    print(json.dumps({k: summary[k] for k in ["target", "logit", "ig"]}))


if __name__ == "__main__":
    main()
