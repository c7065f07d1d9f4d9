"""Clip → network input, the one chain: read → place the mouth window → grayscale crop → normalise.

Two ways to place the window (:func:`locate_mouth`):

* ``grid``: the reference's fixed rectangle, rows 190:236 and cols 80:220 of a 288×360 GRID frame, where GRID
  speaker 1's mouth is (and only speaker 1's: other GRID speakers sit elsewhere in the same frame);
* ``detected``: a face detector finds the mouth and the window is placed with the GRID crop's geometry
  relative to the mouth (see :mod:`lipnet_core.face_detection`);
* ``auto`` always looks for the face first, so a clip without one is refused whatever its size. On a 288×360 frame
  whose detected box lies within ``GRID_AGREEMENT_PIXELS`` of the fixed one, it keeps the fixed box: that is speaker 1
  framed as the network was trained, and the fixed box is the exact crop of its training clips. Any other face gets
  the detected box.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipnet_core.crop_box import GRID_BOX, GRID_FRAME_SIZE, CropBox
from lipnet_core.errors import ClipError
from lipnet_core.mouth_crop import crop_mouth
from lipnet_core.normalise import normalise_clip
from lipnet_core.options import CROP_MODES
from lipnet_core.video import Clip, read_clip, to_grayscale

# How far (in pixels, each edge) a detected box may lie from the fixed GRID box for ``auto`` to keep the fixed one.
GRID_AGREEMENT_PIXELS = 12


@dataclass(frozen=True)
class MouthLocation:
    """Where the mouth window is, and which method placed it (``grid`` or ``detected``)."""

    mode: str
    box: CropBox


@dataclass(frozen=True)
class PreparedClip:
    clip: Clip
    location: MouthLocation
    mouth_frames: np.ndarray  # T x 46 x 140, uint8
    model_input: np.ndarray  # T x 46 x 140 x 1, float32, zero mean / unit std


def choose_mode(frame_size: tuple[int, int], requested: str = "auto") -> str:
    """Check the crop mode asked for; without a detection, ``auto`` can only guess ``grid`` for GRID-sized frames
    and ``detected`` otherwise (:func:`locate_mouth` decides it from the face)."""
    if requested not in CROP_MODES:
        raise ClipError(f"Unknown crop mode {requested!r}; use one of {', '.join(CROP_MODES)}.")
    if requested != "auto":
        return requested
    return "grid" if tuple(frame_size) == GRID_FRAME_SIZE else "detected"


def locate_mouth(frames_bgr: np.ndarray, requested: str = "auto") -> MouthLocation:
    """Place the mouth window on a clip of (T, H, W, 3) uint8 BGR frames."""
    if requested == "auto":
        return _auto_location(frames_bgr)
    mode = choose_mode(frames_bgr.shape[1:3], requested)
    if mode == "grid":
        height, width = frames_bgr.shape[1:3]
        if height < GRID_BOX.bottom or width < GRID_BOX.right:
            raise ClipError(
                f"The grid crop needs frames of at least {GRID_BOX.bottom}×{GRID_BOX.right}; "
                f"this clip is {height}×{width}: use the detected crop."
            )
        return MouthLocation(mode="grid", box=GRID_BOX)
    from lipnet_core.face_detection import detect_mouth_box  # imported lazily: loads the detector's networks

    return MouthLocation(mode="detected", box=detect_mouth_box(frames_bgr))


def boxes_agree(detected: CropBox, fixed: CropBox = GRID_BOX, tolerance: int = GRID_AGREEMENT_PIXELS) -> bool:
    """True when every edge of ``detected`` lies within ``tolerance`` pixels of the same edge of ``fixed``."""
    edges = ("top", "left", "bottom", "right")
    return all(abs(getattr(detected, edge) - getattr(fixed, edge)) <= tolerance for edge in edges)


def _auto_location(frames_bgr: np.ndarray) -> MouthLocation:
    from lipnet_core.face_detection import detect_mouth_box  # imported lazily: loads the detector's networks

    detected = detect_mouth_box(frames_bgr)  # raises FaceNotFoundError for a clip without a face
    if tuple(frames_bgr.shape[1:3]) == GRID_FRAME_SIZE and boxes_agree(detected):
        return MouthLocation(mode="grid", box=GRID_BOX)
    return MouthLocation(mode="detected", box=detected)


def mouth_frames_of(clip: Clip, crop: str = "auto") -> tuple[MouthLocation, np.ndarray]:
    """Locate the mouth and cut the (T, 46, 140) uint8 window. For ``grid`` only the window is converted to gray."""
    location = locate_mouth(clip.frames, crop)
    box = location.box
    if location.mode == "grid":
        window = clip.frames[:, box.top : box.bottom, box.left : box.right]
        return location, to_grayscale(window)
    return location, crop_mouth(to_grayscale(clip.frames), box)


def prepare_frames(clip: Clip, crop: str = "auto") -> PreparedClip:
    """A decoded clip made ready for the network: its mouth window, cut and normalised."""
    location, mouth_frames = mouth_frames_of(clip, crop)
    return PreparedClip(clip, location, mouth_frames, normalise_clip(mouth_frames))


def prepare_clip(path: str | Path, crop: str = "auto") -> PreparedClip:
    """:func:`prepare_frames` of the clip file at ``path``."""
    return prepare_frames(read_clip(path), crop)
