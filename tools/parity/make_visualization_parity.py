"""Reference values of Captum 0.9's heat-map normalisation (captum.attr._utils.visualization
._normalize_attr), for Tests/MiniNetTests/AttributionDisplayTests.swift.

Writes Fixtures/parity/visualize.json: a seeded attribution [H, W, C] (channels last, as
visualize_image_attr takes it) and, for every sign and two outlier percentages, the map that
Captum's `visualize_image_attr(method='heat_map')` colours, after summing the channels.

Run with the reference environment:  python tools/parity/make_visualization_parity.py
"""
import json
import pathlib

import numpy as np
from captum.attr._utils.visualization import _normalize_attr

rng = np.random.default_rng(2026)
height, width, channels = 12, 10, 3
# Heavy tails, so that the outlier percentage matters: a few large values among small ones.
attribution = (rng.standard_normal((height, width, channels)) ** 3).astype(np.float32)

cases = []
for sign in ["positive", "negative", "absolute_value", "all"]:
    for outlier_perc in [1, 2, 10]:
        normalized = _normalize_attr(np.sum(attribution, axis=2), sign, outlier_perc)
        cases.append({"sign": sign, "outlier_perc": outlier_perc,
                      "normalized": np.asarray(normalized, dtype=np.float64).round(9).tolist()})

out = pathlib.Path(__file__).resolve().parents[2] / "Tests/MiniNetTests/Fixtures/parity/visualize.json"
out.write_text(json.dumps({"shape_hwc": [height, width, channels],
                           "attribution_hwc": attribution.astype(np.float64).ravel().tolist(),
                           "cases": cases}, indent=None))
print("wrote", out)
