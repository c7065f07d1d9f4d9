"""Uploaded bytes → a clip file: the accepted types, the size checks, and a private temporary file.

A user's file name only ever contributes its extension, checked against :data:`~lipnet_core.video.SUPPORTED_SUFFIXES`;
the bytes are written as ``upload<suffix>`` inside a fresh temporary directory that is removed afterwards.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lipnet_core.errors import ClipError
from lipnet_core.video import SUPPORTED_SUFFIXES, check_size

MAX_UPLOAD_MEGABYTES = 50  # keep equal to server.maxUploadSize in .streamlit/config.toml
UPLOAD_TYPES = tuple(suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES)


def upload_suffix(filename: str) -> str:
    """The lower-case extension of an uploaded file's name, if it is a supported video type."""
    suffix = Path(str(filename)).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ClipError(f"'{suffix or filename}' files are not accepted; upload one of {', '.join(SUPPORTED_SUFFIXES)}.")
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
