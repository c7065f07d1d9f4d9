"""Clip → something a browser can play: H.264 video (yuv420p) in an MP4 with the index at the front.

Browsers cannot play GRID's original MPEG-1 ``.mpg`` files, nor most ``.avi``/``.mov`` codecs. Such clips are
re-encoded with the ffmpeg binary that ``imageio-ffmpeg`` ships, so no system ffmpeg is assumed. An ``.mp4`` whose
first video stream is already H.264 is passed through unchanged.
"""

import subprocess
import tempfile
from pathlib import Path

from lipnet_core.errors import ClipError
from lipnet_core.uploads import check_size, saved_upload
from lipnet_core.video import ffmpeg_executable, video_codec

FFMPEG_TIMEOUT_SECONDS = 120


def is_browser_playable(path: str | Path) -> bool:
    """True for an ``.mp4`` whose video is H.264 (what every current browser plays)."""
    path = Path(path)
    return path.suffix.lower() in (".mp4", ".m4v") and video_codec(path) == "h264"


def transcode_to_h264(source: str | Path, destination: str | Path) -> Path:
    """Re-encode ``source`` as H.264/AAC MP4 at ``destination``. Raises ClipError when ffmpeg cannot read it."""
    destination = Path(destination)
    command = [
        ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y",
        "-i", str(source),
        "-map", "0:v:0", "-map", "0:a:0?",
        "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",  # yuv420p needs even sides
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k",
        "-movflags", "+faststart",
        str(destination),
    ]  # fmt: skip
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as error:
        raise ClipError(
            f"Converting the clip for playback took over {FFMPEG_TIMEOUT_SECONDS} s; use a shorter clip."
        ) from error
    if completed.returncode != 0 or not destination.is_file() or destination.stat().st_size == 0:
        raise ClipError("The clip could not be converted for playback: the file is not a video, or it is truncated.")
    return destination


def browser_playable(path: str | Path) -> bytes:
    """The bytes of an H.264 MP4 of the clip at ``path``: the file itself when it already is one, else a re-encode
    made in a private temporary directory (removed afterwards)."""
    path = Path(path)
    if not path.is_file():
        raise ClipError(f"There is no file at {path}; check the path.")
    check_size(path.stat().st_size)
    if is_browser_playable(path):
        return path.read_bytes()
    with tempfile.TemporaryDirectory(prefix="lipnet-playback-") as directory:
        return transcode_to_h264(path, Path(directory) / "playable.mp4").read_bytes()


def browser_playable_bytes(data: bytes, filename: str) -> bytes:
    """:func:`browser_playable` for uploaded bytes; only the name's (whitelisted) extension is used."""
    with saved_upload(data, filename, prefix="lipnet-playback-") as path:
        return browser_playable(path)
