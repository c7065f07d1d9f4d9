"""Clip → frames: decode any container OpenCV's FFmpeg reads into uint8 frames at 25 fps.

Length policy: the network is length-agnostic (3D convolutions and recurrent layers over time), so a clip is
*not* padded or trimmed to 75 frames. It is resampled to 25 fps by its frames' timestamps (a variable-frame-rate
phone clip keeps its timing) and the model runs on its true length, which keeps every spoken frame and adds no fake
silence. Clips shorter than ``MIN_SECONDS`` cannot hold a GRID sentence's CTC path and clips longer than
``MAX_SECONDS`` would make the demo slow, so both are refused with a message that states the range.

When a file cannot be used, ffmpeg is asked what it is (:func:`describe`) so the message names the true cause: no
video track, an MP4 without its index, a stream that breaks off, or not a video at all.
"""

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# FFmpeg's own complaints ("moov atom not found") would reach stderr beside our one-line errors; we report instead.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import imageio_ffmpeg  # noqa: E402
import numpy as np  # noqa: E402

from lipnet_core.errors import ClipError  # noqa: E402
from lipnet_core.uploads import MAX_UPLOAD_BYTES, check_size  # noqa: E402

TARGET_FPS = 25.0
MIN_SECONDS = 1.0  # the shortest GRID sentence's CTC path needs about this many frames
MAX_SECONDS = 12.0  # one sentence takes about 3 s; longer clips only make the page wait
DEFAULT_MAX_SIDE = 640
PROBE_TIMEOUT_SECONDS = 60
# Containers whose index states the frame count reliably, so fewer decoded frames means a truncated file.
INDEXED_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi")

_VIDEO_STREAM = re.compile(r"Stream #\S+.*?: Video: (\w+)")
_AUDIO_STREAM = re.compile(r"Stream #\S+.*?: Audio: ")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


@dataclass(frozen=True)
class Clip:
    """Decoded frames at 25 fps.

    Attributes:
        frames: uint8 array (T, H, W, 3), BGR as OpenCV decodes it.
        source_fps: the clip's frame rate before resampling (frames per second of its duration: the average rate of
            a variable-frame-rate clip).
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
    """Path of the ffmpeg binary bundled with imageio-ffmpeg (no system ffmpeg is assumed). Raises ClipError with
    what to do when there is none."""
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as error:
        raise ClipError("ffmpeg, which converts videos, is missing: reinstall the project's requirements "
                        "(`pip install imageio-ffmpeg`) or set IMAGEIO_FFMPEG_EXE to an ffmpeg program.") from error


def describe(path: str | Path) -> str:
    """ffmpeg's description of a file (container, duration, streams), as ``ffmpeg -i`` prints it on stderr."""
    # With no output file ffmpeg describes the input and exits non-zero; that is expected.
    try:
        completed = subprocess.run([ffmpeg_executable(), "-hide_banner", "-i", str(path)], capture_output=True,
                                   text=True, errors="replace", timeout=PROBE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return ""
    return completed.stderr


def video_codec(path: str | Path) -> str | None:
    """The codec name of the first video stream (``h264``, ``mpeg1video``…), or None when there is none."""
    match = _VIDEO_STREAM.search(describe(path))
    return match.group(1) if match else None


def decoding_error(path: str | Path) -> str | None:
    """The first error ffmpeg reports while decoding the whole first video stream, or None when it decodes cleanly."""
    command = [ffmpeg_executable(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
               "-map", "0:v:0", "-f", "null", "-"]  # fmt: skip
    try:
        completed = subprocess.run(command, capture_output=True, text=True, errors="replace",
                                   timeout=PROBE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return None  # too slow to say: the file is not called damaged without evidence
    lines = completed.stderr.strip().splitlines()
    if lines:
        return lines[0]
    return f"ffmpeg stopped with status {completed.returncode}" if completed.returncode != 0 else None


def to_grayscale(frames_bgr: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 BGR → (T, H, W) uint8 luma, in one OpenCV call over the stacked frames."""
    num_frames, height, width, _ = frames_bgr.shape
    stacked = np.ascontiguousarray(frames_bgr).reshape(num_frames * height, width, 3)
    return cv2.cvtColor(stacked, cv2.COLOR_BGR2GRAY).reshape(num_frames, height, width)


def resample_indices(timestamps: np.ndarray, frame_seconds: float, target_fps: float = TARGET_FPS) -> np.ndarray:
    """The source frame on screen at each instant of a ``target_fps`` grid: per instant, the last frame whose
    timestamp, rounded to the nearest instant, is not after it (the rule of ffmpeg's ``fps`` filter).

    Args:
        timestamps: (N,) float, seconds from the first frame, increasing.
        frame_seconds: how long the last frame stays on screen (the clip lasts ``timestamps[-1] + frame_seconds``).

    Returns:
        (T,) int64 indices into the N source frames, T = the clip's duration × ``target_fps``, rounded.
    """
    timestamps = np.asarray(timestamps, dtype=np.float64)
    num_target = max(1, int(round((timestamps[-1] + frame_seconds) * target_fps)))
    instants = np.arange(num_target) / target_fps
    return np.maximum(np.searchsorted(timestamps, instants + 0.5 / target_fps, side="right") - 1, 0)


def plural(number: int, noun: str) -> str:
    """``plural(1, "frame")`` → "1 frame", ``plural(3, "frame")`` → "3 frames"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def seconds_text(seconds: float) -> str:
    """A duration for a message: 0.04, 0.2, 1.5, 60 (at most two decimals, no trailing zeros)."""
    return f"{seconds:.2f}".rstrip("0").rstrip(".")


def read_clip(
    path: str | Path,
    *,
    max_seconds: float = MAX_SECONDS,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_side: int = DEFAULT_MAX_SIDE,
    min_seconds: float = MIN_SECONDS,
) -> Clip:
    """Decode a clip to BGR frames at 25 fps, shrinking frames whose longer side exceeds ``max_side``.

    Raises:
        ClipError: missing, empty or too large file; not a video, no video track, damaged or cut off; too short
            or too long. Each message names the cause and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise ClipError(f"There is no file at {path}; check the path.")
    check_size(path.stat().st_size, max_bytes)
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise unreadable_file_error(path)
        source_fps = capture.get(cv2.CAP_PROP_FPS)
        if not np.isfinite(source_fps) or not 1.0 <= source_fps <= 240.0:
            source_fps = TARGET_FPS
        declared_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        frames, timestamps, scale = _decode_frames(capture, declared_frames, source_fps, max_side, max_seconds)
    except _TooLong:
        raise too_long_error(path, max_seconds, min_seconds) from None
    finally:
        capture.release()
    if len(frames) == 0:
        raise unreadable_file_error(path)
    if path.suffix.lower() in INDEXED_SUFFIXES and len(frames) < 0.9 * declared_frames - 1:
        raise ClipError(
            f"The clip is truncated: only {len(frames)} of its {declared_frames} frames could be decoded; "
            "upload the whole file."
        )
    # The last frame stays on screen as long as the one before it (the container's rate when there is one frame).
    frame_seconds = float(timestamps[-1] - timestamps[-2]) if len(timestamps) > 1 else 1.0 / source_fps
    duration = float(timestamps[-1]) + frame_seconds
    if duration > max_seconds + 1.0 / TARGET_FPS:
        raise too_long_error(path, max_seconds, min_seconds, duration)
    if duration < min_seconds - 0.5 / TARGET_FPS:
        error = decoding_error(path)
        if error:
            raise ClipError(
                f"The file is damaged or cut off: only {plural(len(frames), 'frame')} ({seconds_text(duration)} s) "
                f"could be decoded before the video breaks; upload the whole file."
            )
        raise ClipError(
            f"The clip is {seconds_text(duration)} s long ({plural(len(frames), 'frame')}), shorter than "
            f"{min_seconds:g} s; film a whole sentence ({_length_range(min_seconds, max_seconds)})."
        )
    indices = resample_indices(timestamps, frame_seconds)
    if len(indices) != len(frames) or np.any(indices != np.arange(len(frames))):
        frames = frames[indices]
    return Clip(frames=frames, source_fps=len(timestamps) / duration, scale=scale)


def _length_range(min_seconds: float, max_seconds: float) -> str:
    return f"clips of {min_seconds:g} to {max_seconds:g} s are accepted"


def too_long_error(path: Path, max_seconds: float, min_seconds: float, duration: float | None = None) -> ClipError:
    """The clip is over ``max_seconds``: its length from the frames read, or from the container, when stated."""
    if duration is None:
        match = _DURATION.search(describe(path))
        if match:
            hours, minutes, seconds = match.groups()
            duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    length = f"{seconds_text(duration)} s long, longer than" if duration and duration > max_seconds else "longer than"
    return ClipError(f"The clip is {length} {max_seconds:g} s; trim it to one sentence "
                     f"({_length_range(min_seconds, max_seconds)}).")


def unreadable_file_error(path: Path) -> ClipError:
    """Why OpenCV could not open a file, or decoded no frame of it, in words: from ffmpeg's description of it."""
    report = describe(path)
    if _VIDEO_STREAM.search(report) is None and _AUDIO_STREAM.search(report):
        return ClipError("This file has sound but no video track; upload a video of the speaker's face.")
    if "moov atom not found" in report and "misdetection possible" not in report:
        return ClipError("This MP4 file is incomplete: its index (the moov atom) is missing, as when a recording or "
                         "a copy is cut off; upload the whole file.")
    if _VIDEO_STREAM.search(report):
        return ClipError("The file is damaged: it has a video track but no frame of it could be decoded; upload the "
                         "whole file, or export it again.")
    return ClipError("This file is not a video OpenCV can decode (mp4, mov, avi, mpg, webm are accepted).")


class _TooLong(Exception):
    """Raised inside the decoding loop at the first frame past the length limit."""


def _decode_frames(capture, declared_frames, source_fps, max_side, max_seconds) -> tuple[np.ndarray, np.ndarray, float]:
    """Decode into one preallocated (T, H, W, 3) buffer: OpenCV writes each frame in place, so there is no
    per-frame allocation and no final stacking copy. Frames larger than ``max_side`` are shrunk on the way.

    Returns the frames, their (T,) float64 times in seconds from the first frame (see :func:`_frame_times`) and the
    scale. Raises ``_TooLong`` at the first frame shown after ``max_seconds``."""
    frames, count, scale, presentation_times = None, 0, 1.0, []
    while True:
        slot = frames[count] if frames is not None and count < len(frames) and scale == 1.0 else None
        ok, frame = capture.read(slot) if slot is not None else capture.read()
        if not ok or frame is None:
            break
        presentation_times.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
        elapsed = presentation_times[-1] - presentation_times[0]
        if not (np.isfinite(elapsed) and elapsed > 0):
            elapsed = count / source_fps
        if elapsed >= max_seconds + 1.0 / TARGET_FPS or count > 4 * max_seconds * max(source_fps, TARGET_FPS):
            raise _TooLong()
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if frames is None:
            scale = min(1.0, max_side / max(frame.shape[:2]))
            height, width = round(frame.shape[0] * scale), round(frame.shape[1] * scale)
            capacity = min(max(declared_frames, 1), int(max_seconds * source_fps) + 1) + 1
            frames = np.empty((capacity, height, width, 3), dtype=np.uint8)
        if frame.shape != frames.shape[1:]:
            frame = cv2.resize(frame, (frames.shape[2], frames.shape[1]), interpolation=cv2.INTER_AREA)
        if count == len(frames):
            frames = np.concatenate([frames, np.empty_like(frames)])
        if not np.shares_memory(frame, frames[count]):
            frames[count] = frame
        count += 1
    if frames is None:
        return np.empty((0, 1, 1, 3), dtype=np.uint8), np.empty(0), 1.0
    return frames[:count], _frame_times(presentation_times, source_fps), scale


def _frame_times(presentation_times: list[float], source_fps: float) -> np.ndarray:
    """(T,) seconds from the first frame: the decoder's presentation times when they are finite and increasing
    (so a variable-frame-rate clip keeps its timing), else the frame rate's even grid."""
    times = np.asarray(presentation_times, dtype=np.float64) - presentation_times[0]
    if np.all(np.isfinite(times)) and np.all(np.diff(times) > 0):
        return times
    return np.arange(len(times)) / source_fps
