"""Browser recordings → clip files the reader takes: a constant 25 fps H.264 MP4, resampled by the timestamps.

A browser's MediaRecorder writes WebM (or MP4) with variable frame timing and often no frame count, so its file is
not read directly: ffmpeg's ``fps`` filter places each frame by its timestamp on a 25 fps grid first (the rule
:func:`lipnet_core.video.resample_indices` applies to uploaded clips). A recording that is empty, holds no frame, or
is shorter or longer than a clip may be is refused here, in words about recording.
"""

import subprocess
import tempfile
from pathlib import Path

import cv2

from lipnet_core.errors import ClipError
from lipnet_core.uploads import megabytes_text
from lipnet_core.video import MAX_SECONDS, MIN_SECONDS, TARGET_FPS, ffmpeg_executable, plural, seconds_text

MAX_RECORDING_BYTES = 20 * 2**20
RECORDING_SUFFIXES = {"video/webm": ".webm", "video/mp4": ".mp4", "video/x-matroska": ".mkv"}
FFMPEG_TIMEOUT_SECONDS = 60


def recording_suffix(mime_type: str) -> str:
    """The file suffix for a MediaRecorder MIME type (``video/webm;codecs=vp8`` → ``.webm``)."""
    base = str(mime_type).split(";", 1)[0].strip().lower()
    if base not in RECORDING_SUFFIXES:
        raise ClipError(f"The browser recorded '{base or 'an unknown type'}', which cannot be read; try Chrome, Edge "
                        "or Firefox, or upload a clip instead.")
    return RECORDING_SUFFIXES[base]


def check_recording_size(num_bytes: int) -> None:
    """Refuse an empty recording, or one over ``MAX_RECORDING_BYTES``, before converting it."""
    if num_bytes == 0:
        raise ClipError("The recording is empty (nothing was recorded); allow the camera and record again.")
    if num_bytes > MAX_RECORDING_BYTES:
        raise ClipError(f"The recording is {megabytes_text(num_bytes)} MB, more than the "
                        f"{megabytes_text(MAX_RECORDING_BYTES)} MB a recording may be; record one sentence.")


def check_recording_length(num_frames: int) -> None:
    """Refuse a converted recording (``num_frames`` at 25 fps) outside the length range clips are read in."""
    seconds = num_frames / TARGET_FPS
    if num_frames == 0:
        raise ClipError("The recording could not be read: it holds no video frame (it was stopped at once, or cut "
                        "off); record again.")
    if seconds < MIN_SECONDS:
        raise ClipError(f"The recording is only {seconds_text(seconds)} s long ({plural(num_frames, 'frame')}); "
                        f"record again and say the whole sentence (recordings of {MIN_SECONDS:g} to "
                        f"{MAX_SECONDS:g} s are read).")
    if seconds > MAX_SECONDS + 1.0 / TARGET_FPS:
        raise ClipError(f"The recording is {seconds_text(seconds)} s long, longer than {MAX_SECONDS:g} s; record "
                        "one sentence only.")


def save_recording(data: bytes, mime_type: str, destination: str | Path) -> Path:
    """Write a browser recording to ``destination`` (an ``.mp4``) at a constant 25 fps, without sound.

    Raises:
        ClipError: an empty, oversized or undecodable recording, or one shorter or longer than a clip may be.
    """
    check_recording_size(len(data))
    suffix = recording_suffix(mime_type)
    destination = Path(destination)
    with tempfile.TemporaryDirectory(prefix="lipnet-recording-") as directory:
        source = Path(directory) / f"recording{suffix}"
        source.write_bytes(data)
        command = [
            ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
            "-an", "-vf", f"fps={TARGET_FPS:g},scale=trunc(iw/2)*2:trunc(ih/2)*2",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
            str(destination),
        ]  # fmt: skip
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as error:
            raise ClipError("Converting the recording took too long; record again.") from error
    if completed.returncode != 0 or not destination.is_file() or destination.stat().st_size == 0:
        raise ClipError("The recording could not be read (no video in it, or it was cut off); record again.")
    check_recording_length(_frame_count(destination))
    return destination


def _frame_count(path: Path) -> int:
    """Frames in an MP4 this module wrote (its index states the count exactly)."""
    capture = cv2.VideoCapture(str(path))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()
