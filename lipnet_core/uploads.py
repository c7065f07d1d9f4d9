"""Which files are accepted: the video types, the one size limit (app and command line alike), and uploaded bytes
written to a private temporary file.

A user's file name only ever contributes its extension, checked against :data:`SUPPORTED_SUFFIXES`; the bytes are
written as ``upload<suffix>`` inside a fresh temporary directory that is removed afterwards. The length limits
(seconds) live with the decoding, in :mod:`lipnet_core.video`.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lipnet_core.errors import ClipError

MAX_UPLOAD_MEGABYTES = 50  # keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_UPLOAD_BYTES = MAX_UPLOAD_MEGABYTES * 2**20
SUPPORTED_SUFFIXES = (".mpg", ".mpeg", ".mp4", ".m4v", ".mov", ".avi", ".webm", ".mkv")
UPLOAD_TYPES = tuple(suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES)


def megabytes_text(num_bytes: int) -> str:
    """A size for a message, in MB (2**20 bytes) with at most one decimal: 210, 50.4, 0.1."""
    return f"{num_bytes / 2**20:.1f}".rstrip("0").rstrip(".")


def check_size(num_bytes: int, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse an empty file or one over ``max_bytes`` before anything tries to decode it."""
    if num_bytes == 0:
        raise ClipError("The file is empty (0 bytes); choose a video file.")
    if num_bytes > max_bytes:
        raise ClipError(f"The file is {megabytes_text(num_bytes)} MB; files up to {megabytes_text(max_bytes)} MB are "
                        "accepted, so trim it to one sentence or export it at a lower quality.")


def upload_suffix(filename: str) -> str:
    """The lower-case extension of an uploaded file's name, if it is a supported video type."""
    suffix = Path(str(filename)).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        accepted = ", ".join(SUPPORTED_SUFFIXES)
        raise ClipError(f"'{suffix or filename}' files are not accepted; upload one of {accepted}.")
    return suffix


def check_upload(data: bytes, filename: str, max_megabytes: float = MAX_UPLOAD_MEGABYTES) -> None:
    """Refuse an upload before decoding it: unsupported extension, empty, or larger than the limit."""
    upload_suffix(filename)
    check_size(len(data), max_bytes=int(max_megabytes * 2**20))


@contextmanager
def saved_upload(data: bytes, filename: str, prefix: str = "lipnet-upload-") -> Iterator[Path]:
    """The bytes as a file in a private temporary directory, for the ``with`` block only."""
    suffix = upload_suffix(filename)
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        path = Path(directory) / f"upload{suffix}"
        path.write_bytes(data)
        yield path
