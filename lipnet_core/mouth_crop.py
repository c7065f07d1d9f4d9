"""Frames + box → mouth crop: the (T, 46, 140) uint8 window the network looks at.

Where the box goes is decided upstream (:func:`lipnet_core.preprocessing.locate_mouth`); this module only cuts it.
"""

import cv2
import numpy as np

from lipnet_core.crop_box import MOUTH_HEIGHT, MOUTH_WIDTH, CropBox


def crop_mouth(gray_frames: np.ndarray, box: CropBox) -> np.ndarray:
    """(T, H, W) uint8 → (T, 46, 140) uint8: slice the box, resizing only when it is not already 46×140.

    For the GRID box this is exactly the reference's ``frames[:, 190:236, 80:220]``.
    """
    if box.height == MOUTH_HEIGHT and box.width == MOUTH_WIDTH and box.top >= 0 and box.left >= 0:
        window = gray_frames[:, box.top : box.bottom, box.left : box.right]
        if window.shape[1:] == (MOUTH_HEIGHT, MOUTH_WIDTH):
            return np.ascontiguousarray(window)
    num_frames, height, width = gray_frames.shape
    # Pad by edge replication so a box that reaches past the frame border still yields a full window.
    pad_top, pad_left = max(0, -box.top), max(0, -box.left)
    pad_bottom, pad_right = max(0, box.bottom - height), max(0, box.right - width)
    padded = np.pad(gray_frames, ((0, 0), (pad_top, pad_bottom), (pad_left, pad_right)), mode="edge")
    window = padded[:, box.top + pad_top : box.bottom + pad_top, box.left + pad_left : box.right + pad_left]
    # Frame by frame: OpenCV's INTER_AREA handles at most 4 channels for non-integer ratios (~6 ms for 75 frames).
    resized = [cv2.resize(frame, (MOUTH_WIDTH, MOUTH_HEIGHT), interpolation=cv2.INTER_AREA) for frame in window]
    return np.stack(resized)  # T x 46 x 140
