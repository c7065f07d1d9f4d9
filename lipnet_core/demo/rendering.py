"""Pictures for people: the normalised mouth frames as an animated GIF, and a frame with the crop box drawn."""

import io

import cv2
import imageio.v3 as iio
import numpy as np

from lipnet_core.crop_box import CropBox

GIF_SCALE = 2  # 92×280: big enough to see the lips move; the page scales it further
GIF_FRAME_MILLISECONDS = 40  # 25 fps, the model's frame rate


def to_display_range(model_input: np.ndarray) -> np.ndarray:
    """(T, H, W[, 1]) normalised float → (T, H, W) uint8, stretched over the clip's own min..max."""
    values = np.asarray(model_input, dtype=np.float32).reshape(model_input.shape[:3])
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) * (255.0 / (high - low if high > low else 1.0))
    return scaled.round().astype(np.uint8)


def mouth_gif(model_input: np.ndarray, scale: int = GIF_SCALE) -> bytes:
    """The network's input as a looping GIF, enlarged ``scale`` times (nearest neighbour keeps pixels honest)."""
    frames = to_display_range(model_input)
    frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    buffer = io.BytesIO()
    iio.imwrite(buffer, frames, extension=".gif", duration=GIF_FRAME_MILLISECONDS, loop=0)
    return buffer.getvalue()


def frame_with_box(frame_bgr: np.ndarray, box: CropBox, thickness: int = 2) -> np.ndarray:
    """An RGB copy of one frame with the mouth crop box outlined in green."""
    picture = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    cv2.rectangle(picture, (box.left, box.top), (box.right - 1, box.bottom - 1), (0, 220, 0), thickness)
    return picture
