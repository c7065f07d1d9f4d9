"""Mouth crop → network input: (x − mean) / std over the whole clip, as the reference notebooks did."""

import numpy as np


def normalise_clip(mouth_frames: np.ndarray) -> np.ndarray:
    """(T, 46, 140) uint8 → (T, 46, 140, 1) float32 with zero mean and unit standard deviation over the clip.

    A constant clip (std 0) maps to zeros instead of dividing by zero.
    """
    values = mouth_frames.astype(np.float32)
    mean = values.mean(dtype=np.float64)
    std = values.std(dtype=np.float64)
    normalised = (values - np.float32(mean)) / np.float32(std if std > 0 else 1.0)
    return normalised[..., np.newaxis]
