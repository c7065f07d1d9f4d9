"""Clip file → network input, chaining the stages: read → grayscale → mouth window → normalise."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipnet_core.mouth_crop import MouthLocation, crop_mouth, locate_mouth
from lipnet_core.normalise import normalise_clip
from lipnet_core.video import Clip, read_clip, to_grayscale


@dataclass(frozen=True)
class PreparedClip:
    clip: Clip
    location: MouthLocation
    mouth_frames: np.ndarray  # T x 46 x 140, uint8
    model_input: np.ndarray  # T x 46 x 140 x 1, float32, zero mean / unit std


def mouth_frames_of(clip: Clip, crop: str = "auto") -> tuple[MouthLocation, np.ndarray]:
    """Locate the mouth and cut the (T, 46, 140) uint8 window. For ``grid`` only the window is converted to gray."""
    location = locate_mouth(clip.frames, crop)
    box = location.box
    if location.mode == "grid":
        window = clip.frames[:, box.top : box.bottom, box.left : box.right]
        return location, to_grayscale(window)
    return location, crop_mouth(to_grayscale(clip.frames), box)


def prepare_clip(path: str | Path, crop: str = "auto") -> PreparedClip:
    clip = read_clip(path)
    location, mouth_frames = mouth_frames_of(clip, crop)
    return PreparedClip(clip, location, mouth_frames, normalise_clip(mouth_frames))
