"""Reference numbers for Tests/LessonsTests/NotebookTests.swift (colour maps, overlay, resize).

Run with the reference venv:  /root/refenv/bin/python tools/notebook_reference.py
and paste the printed literals into the tests.
"""
import cv2
import numpy as np
from pytorch_grad_cam.utils.image import show_cam_on_image

# OpenCV's jet table, RGB, as one hex string (6 digits per level 0…255).
levels = np.arange(256, dtype=np.uint8).reshape(1, 256)
jet = cv2.applyColorMap(levels, cv2.COLORMAP_JET)[0][:, ::-1]
print("jet =", "".join("%02x%02x%02x" % tuple(rgb) for rgb in jet))

# show_cam_on_image on a 3x4 picture with a 3x4 mask (image weight 0.5, RGB).
image = (np.arange(3 * 4 * 3).reshape(3, 4, 3) * 7 % 256).astype(np.uint8)
mask = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
blend = show_cam_on_image(np.float32(image) / 255, mask, use_rgb=True)
print("image =", image.flatten().tolist())
print("mask =", mask.flatten().tolist())
print("overlay =", blend.flatten().tolist())

# cv2.resize bilinear of a 2x3 map to 4x5 (half-pixel centres).
small = np.array([[0, 1, 2], [3, 4, 8]], dtype=np.float32)
print("resized =", cv2.resize(small, (5, 4), interpolation=cv2.INTER_LINEAR).flatten().tolist())
