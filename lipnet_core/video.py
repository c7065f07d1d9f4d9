"""Clip → frames: decode any container OpenCV's FFmpeg reads into uint8 frames at 25 fps.

Length policy: the network is length-agnostic (3D convolutions and recurrent layers over time), so a clip is
*not* padded or trimmed to 75 frames. It is resampled to 25 fps and the model runs on its true length, which keeps
every spoken frame and adds no fake silence. Clips shorter than ``MIN_FRAMES`` cannot hold a GRID sentence's CTC
path and clips longer than ``max_seconds`` would make the demo slow, so both are refused with a clear message.
"""

import os
from dataclasses import dataclass
from pathlib import Path

# FFmpeg's own complaints ("moov atom not found") would reach stderr beside our one-line errors; we report instead.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import imageio_ffmpeg  # noqa: E402
import numpy as np  # noqa: E402

from lipnet_core.errors import ClipError  # noqa: E402

TARGET_FPS = 25.0
MIN_FRAMES = 25
DEFAULT_MAX_SECONDS = 12.0
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_SIDE = 640
# Containers whose index states the frame count reliably, so fewer decoded frames means a truncated file.
INDEXED_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi")
SUPPORTED_SUFFIXES = (".mpg", ".mpeg", ".mp4", ".m4v", ".mov", ".avi", ".webm", ".mkv")


@dataclass(frozen=True)
class Clip:
    """Decoded frames at 25 fps.

    Attributes:
        frames: uint8 array (T, H, W, 3), BGR as OpenCV decodes it.
        source_fps: the container's frame rate before resampling.
        scale: factor applied to the decoded frames (1.0 unless the clip was larger than ``max_side``).
    """

    frames: np.ndarray
    source_fps: float
    scale: float = 1.0

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def frame_size(self) -> tuple[int, int]:
        """(height, width) in pixels."""
        return int(self.frames.shape[1]), int(self.frames.shape[2])


def ffmpeg_executable() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg (no system ffmpeg is assumed)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def to_grayscale(frames_bgr: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 BGR → (T, H, W) uint8 luma, in one OpenCV call over the stacked frames."""
    num_frames, height, width, _ = frames_bgr.shape
    stacked = np.ascontiguousarray(frames_bgr).reshape(num_frames * height, width, 3)
    return cv2.cvtColor(stacked, cv2.COLOR_BGR2GRAY).reshape(num_frames, height, width)


def check_size(num_bytes: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse an empty file or one over ``max_bytes`` before anything tries to decode it."""
    if num_bytes == 0:
        raise ClipError("The file is empty (0 bytes); choose a video file.")
    if num_bytes > max_bytes:
        raise ClipError(f"The file is {num_bytes / 2**20:.0f} MB; clips up to {max_bytes / 2**20:.0f} MB are accepted.")


def resample_indices(num_frames: int, source_fps: float, target_fps: float = TARGET_FPS) -> np.ndarray:
    """Indices of the source frames nearest to each target-rate instant (drops or repeats frames)."""
    if abs(source_fps - target_fps) < 0.01 * target_fps:
        return np.arange(num_frames)
    duration = num_frames / source_fps
    num_target = max(1, int(round(duration * target_fps)))
    times = (np.arange(num_target) + 0.5) / target_fps
    return np.minimum((times * source_fps).astype(np.int64), num_frames - 1)


def read_clip(
    path: str | Path,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_side: int = DEFAULT_MAX_SIDE,
    min_frames: int = MIN_FRAMES,
) -> Clip:
    """Decode a clip to BGR frames at 25 fps, shrinking frames whose longer side exceeds ``max_side``.

    Raises:
        ClipError: missing file, too large, not decodable, no frames, too short or too long.
    """
    path = Path(path)
    if not path.is_file():
        raise ClipError(f"No clip at {path}.")
    check_size(path.stat().st_size, max_bytes)
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ClipError("This file is not a video OpenCV can decode (mp4, mov, avi, mpg, webm are accepted).")
        source_fps = capture.get(cv2.CAP_PROP_FPS)
        if not np.isfinite(source_fps) or not 1.0 <= source_fps <= 240.0:
            source_fps = TARGET_FPS
        max_source_frames = int(max_seconds * source_fps) + 1
        declared_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        frames, scale = _decode_frames(capture, declared_frames, max_source_frames, max_side, max_seconds)
    finally:
        capture.release()
    if len(frames) == 0:
        raise ClipError("No video frames could be decoded: the file is not a video, or it is truncated.")
    if path.suffix.lower() in INDEXED_SUFFIXES and len(frames) < 0.9 * declared_frames - 1:
        raise ClipError(
            f"The clip is truncated: only {len(frames)} of its {declared_frames} frames could be decoded; "
            "upload the whole file."
        )
    indices = resample_indices(len(frames), source_fps)
    if len(indices) < min_frames:
        raise ClipError(
            f"The clip has {len(indices)} frames at 25 fps; at least {min_frames} (1 s) are needed for a sentence."
        )
    if len(indices) != len(frames) or np.any(indices != np.arange(len(frames))):
        frames = frames[indices]
    return Clip(frames=frames, source_fps=float(source_fps), scale=scale)


def _decode_frames(capture, declared_frames, max_frames, max_side, max_seconds) -> tuple[np.ndarray, float]:
    """Decode into one preallocated (T, H, W, 3) buffer: OpenCV writes each frame in place, so there is no
    per-frame allocation and no final stacking copy. Frames larger than ``max_side`` are shrunk on the way."""
    frames, count, scale = None, 0, 1.0
    while True:
        slot = frames[count] if frames is not None and count < len(frames) and scale == 1.0 else None
        ok, frame = capture.read(slot) if slot is not None else capture.read()
        if not ok or frame is None:
            break
        if count >= max_frames:
            raise ClipError(f"The clip is longer than {max_seconds:g} s; trim it to a single sentence.")
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if frames is None:
            scale = min(1.0, max_side / max(frame.shape[:2]))
            height, width = round(frame.shape[0] * scale), round(frame.shape[1] * scale)
            capacity = min(max(declared_frames, 1), max_frames) + 1
            frames = np.empty((capacity, height, width, 3), dtype=np.uint8)
        if frame.shape != frames.shape[1:]:
            frame = cv2.resize(frame, (frames.shape[2], frames.shape[1]), interpolation=cv2.INTER_AREA)
        if count == len(frames):
            frames = np.concatenate([frames, np.empty_like(frames)])
        if not np.shares_memory(frame, frames[count]):
            frames[count] = frame
        count += 1
    if frames is None:
        return np.empty((0, 1, 1, 3), dtype=np.uint8), 1.0
    return frames[:count], scale
