"""Pictures for people: the normalised mouth frames as an animated GIF, a frame with the crop box drawn, and the
network's saliency laid over the mouth (as a GIF and as a strip of frames)."""

import io

import cv2
import imageio.v3 as iio
import numpy as np
from PIL import Image

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
    pictures = [Image.fromarray(frame, mode="L") for frame in frames]
    buffer = io.BytesIO()
    # Whole frames (optimize=False): a third larger than frame differences, but three times faster to write, and
    # Try it out writes one for every clip shown.
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=GIF_FRAME_MILLISECONDS,
                     loop=0, optimize=False)
    return buffer.getvalue()


def frame_with_box(frame_bgr: np.ndarray, box: CropBox, thickness: int = 2) -> np.ndarray:
    """An RGB copy of one frame with the mouth crop box outlined in green."""
    picture = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    cv2.rectangle(picture, (box.left, box.top), (box.right - 1, box.bottom - 1), (0, 220, 0), thickness)
    return picture


SALIENCY_COLOUR_MAP = cv2.COLORMAP_INFERNO  # black → purple → orange → yellow: readable with colour-blindness
SALIENCY_BLUR_SIGMA = 1.5  # pixels of the 46×140 crop: enough to merge max-pooling's pixel speckle
SALIENCY_TOP_PERCENTILE = 99.5  # the clip's saliency is scaled so this percentile is full colour
SALIENCY_OPACITY = 0.8  # of the colour at full saliency; none at zero, so the mouth shows through
STRIP_LABEL_HEIGHT = 16
STRIP_GAP = 4


def saliency_overlay(model_input: np.ndarray, saliency: np.ndarray) -> np.ndarray:
    """(T, 46, 140[, 1]) normalised crop and (T, 46, 140) non-negative saliency → (T, 46, 140, 3) uint8 RGB.

    The saliency is smoothed per frame, scaled over the whole clip (so frames compare), and laid over the grey crop
    in the inferno colour map with an opacity that grows with it: plain grey where the network is insensitive.
    """
    grey = to_display_range(model_input).astype(np.float32)
    saliency = np.asarray(saliency, dtype=np.float32)
    if saliency.shape != grey.shape:
        raise ValueError(f"Saliency {saliency.shape} does not match the crop {grey.shape}.")
    smoothed = np.stack([cv2.GaussianBlur(frame, (0, 0), SALIENCY_BLUR_SIGMA) for frame in saliency])
    top = float(np.percentile(smoothed, SALIENCY_TOP_PERCENTILE))
    strength = np.clip(smoothed / top, 0.0, 1.0) if top > 0 else np.zeros_like(smoothed)
    levels = (strength * 255).round().astype(np.uint8)
    colours = cv2.applyColorMap(levels.reshape(-1, levels.shape[-1]), SALIENCY_COLOUR_MAP)[..., ::-1]
    colours = colours.reshape(*levels.shape, 3).astype(np.float32)
    opacity = SALIENCY_OPACITY * strength[..., np.newaxis]
    blended = grey[..., np.newaxis] * (1.0 - opacity) + colours * opacity
    return blended.round().astype(np.uint8)


def saliency_gif(mouth_model_input: np.ndarray, saliency: np.ndarray, scale: int = GIF_SCALE) -> bytes:
    """The crop with its saliency overlaid (:func:`saliency_overlay`) as a looping GIF, enlarged like
    :func:`mouth_gif`."""
    frames = saliency_overlay(mouth_model_input, saliency).repeat(scale, axis=1).repeat(scale, axis=2)
    buffer = io.BytesIO()
    iio.imwrite(buffer, frames, extension=".gif", duration=GIF_FRAME_MILLISECONDS, loop=0)
    return buffer.getvalue()


def strip_frame_indices(first_frame: int, last_frame: int, num_frames: int, margin: int = 3,
                        max_tiles: int = 8) -> list[int]:
    """Evenly spaced frames from ``margin`` before ``first_frame`` to ``margin`` after ``last_frame`` (within the
    clip), at most ``max_tiles`` of them: every frame of a short word, every n-th of a long stretch."""
    start, stop = max(0, first_frame - margin), min(num_frames - 1, last_frame + margin)
    step = max(1, -(-(stop - start + 1) // max_tiles))
    return list(range(start, stop + 1, step))


def saliency_strip(mouth_model_input: np.ndarray, saliency: np.ndarray, frame_indices,
                   scale: int = GIF_SCALE, columns: int = 4) -> np.ndarray:
    """Chosen frames of the overlay side by side, ``columns`` to a row, each under its frame number.

    Returns (rows × (16 + 46·scale + 4), columns × (140·scale + 4), 3) uint8 RGB on white.
    """
    overlay = saliency_overlay(mouth_model_input, saliency)
    frame_indices = list(frame_indices)
    if not frame_indices or min(frame_indices) < 0 or max(frame_indices) >= len(overlay):
        raise ValueError(f"Frame numbers must be in 0..{len(overlay) - 1}, got {frame_indices}.")
    tile_height, tile_width = overlay.shape[1] * scale, overlay.shape[2] * scale
    cell_height, cell_width = STRIP_LABEL_HEIGHT + tile_height + STRIP_GAP, tile_width + STRIP_GAP
    columns = max(1, min(columns, len(frame_indices)))
    rows = -(-len(frame_indices) // columns)
    strip = np.full((rows * cell_height, columns * cell_width, 3), 255, dtype=np.uint8)
    for position, frame in enumerate(frame_indices):
        top, left = (position // columns) * cell_height, (position % columns) * cell_width
        tile = overlay[frame].repeat(scale, axis=0).repeat(scale, axis=1)
        strip[top + STRIP_LABEL_HEIGHT:top + STRIP_LABEL_HEIGHT + tile_height, left:left + tile_width] = tile
        cv2.putText(strip, f"frame {frame}", (left + 2, top + STRIP_LABEL_HEIGHT - 4), cv2.FONT_HERSHEY_SIMPLEX,
                    0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return strip
