"""Frames → mouth crop: the (T, 46, 140) uint8 window the network looks at.

Two ways to place the window, one interface (:func:`locate_mouth`):

* ``grid``: the reference's fixed rectangle, rows 190:236 and cols 80:220 of a 288×360 GRID frame;
* ``detected``: a face detector finds the mouth and the window is placed with the GRID crop's geometry
  relative to the mouth (see :mod:`lipnet_core.face_detection`);
* ``auto`` picks ``grid`` for 288×360 frames and ``detected`` otherwise.
"""

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from lipnet_core.errors import ClipError

MOUTH_HEIGHT = 46
MOUTH_WIDTH = 140
GRID_FRAME_SIZE = (288, 360)  # (height, width)
CROP_MODES = ("auto", "grid", "detected")


@dataclass(frozen=True)
class CropBox:
    """A rectangle in frame pixels: rows top:bottom, cols left:right (end exclusive)."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    def as_dict(self) -> dict:
        return asdict(self)


GRID_BOX = CropBox(top=190, left=80, bottom=236, right=220)


@dataclass(frozen=True)
class MouthLocation:
    """Where the mouth window is, and which method placed it (``grid`` or ``detected``)."""

    mode: str
    box: CropBox


def choose_mode(frame_size: tuple[int, int], requested: str = "auto") -> str:
    """Resolve ``auto`` to ``grid`` for GRID-sized frames, else ``detected``."""
    if requested not in CROP_MODES:
        raise ClipError(f"Unknown crop mode {requested!r}; use one of {', '.join(CROP_MODES)}.")
    if requested != "auto":
        return requested
    return "grid" if tuple(frame_size) == GRID_FRAME_SIZE else "detected"


def locate_mouth(frames_bgr: np.ndarray, requested: str = "auto") -> MouthLocation:
    """Place the mouth window on a clip of (T, H, W, 3) uint8 BGR frames."""
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
