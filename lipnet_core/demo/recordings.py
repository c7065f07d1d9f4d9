"""Browser recordings → clip files the reader takes: a constant 25 fps H.264 MP4, resampled by the timestamps.

A browser's MediaRecorder writes WebM (or MP4) with variable frame timing and often no frame count, so its file is
not read directly: ffmpeg's ``fps`` filter places each frame by its timestamp on a 25 fps grid first.
"""

import subprocess
import tempfile
from pathlib import Path

from lipnet_core.errors import ClipError
from lipnet_core.video import TARGET_FPS, check_size, ffmpeg_executable

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


def save_recording(data: bytes, mime_type: str, destination: str | Path) -> Path:
    """Write a browser recording to ``destination`` (an ``.mp4``) at a constant 25 fps, without sound.

    Raises:
        ClipError: an empty, oversized or undecodable recording.
    """
    check_size(len(data), MAX_RECORDING_BYTES)
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
    return destination
