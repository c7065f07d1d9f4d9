"""Fetching the reference GRID speaker-1 data and trained checkpoint from Google Drive, checked and unpacked safely.

``download("data", DIR)`` leaves ``DIR/data/s1/*.mpg`` and ``DIR/data/alignments/s1/*.align``;
``download("checkpoint", DIR)`` leaves ``DIR/models/checkpoint{,.index,.data-00000-of-00001}``. The archive is
fetched and unpacked in a hidden folder inside ``DIR`` and only moved into place once every member has been checked,
so a failed or refused download never leaves half an archive behind.
"""

import os
import shutil
import socket
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from lipnet_core.errors import LipNetError

DRIVE_HOST = "drive.google.com"
CONNECT_TIMEOUT_S = 3.0

Fetch = Callable[[str, Path], object]


class DownloadError(LipNetError):
    """The reference archive could not be fetched, is not what was expected, or is unsafe to unpack."""


@dataclass(frozen=True)
class DriveArchive:
    """One archive of the reference notebooks on Google Drive and where its contents go."""

    what: str
    file_id: str
    archive_name: str
    target_name: str  # the folder created in the destination
    description: str
    unpacked_check: str  # a path under the destination that exists once the archive is unpacked

    @property
    def browser_url(self) -> str:
        return f"https://drive.google.com/uc?id={self.file_id}"


ARCHIVES = {
    "data": DriveArchive(
        "data",
        "1YlvpDLix3S-U8fd-gqRwPcWXAXm8JwjL",
        "data.zip",
        "data",
        "GRID speaker-1 clips",
        "data/alignments/s1",
    ),
    "checkpoint": DriveArchive(
        "checkpoint",
        "1vWscXs4Vt0a_1IH1-ct2TCgXAZT-N3_Y",
        "checkpoints.zip",
        "models",
        "reference checkpoint",
        "models/checkpoint.index",
    ),
}


def download(what: str, destination: str | Path, *, fetch: Fetch | None = None) -> Path:
    """Fetch ``what`` ("data" or "checkpoint") into ``destination``; returns the folder it unpacked
    (``destination/data`` or ``destination/models``).

    ``fetch(file_id, output_path)`` writes the archive to ``output_path``; it defaults to gdown after a quick check
    that Google Drive can be reached. Raises DownloadError with one sentence saying what to do.
    """
    if what not in ARCHIVES:
        raise DownloadError(f"Unknown download '{what}': choose one of {', '.join(sorted(ARCHIVES))}.")
    archive = ARCHIVES[what]
    destination = Path(destination)
    if fetch is None:
        _check_drive_reachable(archive, destination)
        fetch = _gdown_fetch
    try:
        destination.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"Cannot create {destination} ({error.strerror or error}): choose another --to.") from error

    staging = Path(tempfile.mkdtemp(prefix=f".lipnet-{what}-", dir=destination))
    try:
        archive_path = staging / archive.archive_name
        _fetch_archive(fetch, archive, archive_path, destination)
        unpacked = staging / "unpacked"
        root = extract_archive(archive_path, unpacked, archive)
        target = destination / archive.target_name
        _move_into_place(root, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def extract_archive(archive_path: Path, into: Path, archive: DriveArchive) -> Path:
    """Check ``archive_path`` is a safe zip holding ``archive``'s files, unpack it into ``into``; returns the folder
    that holds them (``into/data``, ``into/models`` or ``into`` itself when the zip has no top folder)."""
    _refuse_non_zip(archive_path, archive)
    try:
        with zipfile.ZipFile(archive_path) as bundle:
            members = bundle.infolist()
            for member in members:
                _check_member(member, archive_path)
            root = _content_root([member.filename for member in members if not member.is_dir()], archive, archive_path)
            into.mkdir(parents=True, exist_ok=True)
            base = into.resolve()
            for member in members:
                target = (base / member.filename).resolve()
                if target != base and base not in target.parents:
                    raise DownloadError(f"{archive_path.name} has a member escaping its folder ({member.filename!r}).")
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, open(target, "wb") as written:
                    shutil.copyfileobj(source, written, 1 << 20)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise DownloadError(
            f"{archive_path.name} from Google Drive is damaged ({error}): try again, or download it in a browser from "
            f"{archive.browser_url}."
        ) from error
    except OSError as error:
        raise DownloadError(
            f"Cannot unpack {archive_path.name} ({error.strerror or error}): free some disk space or choose "
            "another --to."
        ) from error
    return into / root if root else into


def _check_drive_reachable(archive: DriveArchive, destination: Path) -> None:
    try:
        with socket.create_connection((DRIVE_HOST, 443), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        raise DownloadError(
            f"Cannot reach Google Drive ({DRIVE_HOST}: {error.strerror or type(error).__name__}): connect to the "
            f"internet, or {_by_hand(archive, destination)}."
        ) from error


def _gdown_fetch(file_id: str, output_path: Path) -> None:
    import gdown

    written = gdown.download(id=file_id, output=str(output_path), quiet=False)
    if written is None:
        raise OSError("gdown returned no file")


def _fetch_archive(fetch: Fetch, archive: DriveArchive, archive_path: Path, destination: Path) -> None:
    try:
        fetch(archive.file_id, archive_path)
    except KeyboardInterrupt:
        raise
    except Exception as error:  # network, gdown's FileURLRetrievalError, a full disk, ...
        if type(error).__name__ == "FileURLRetrievalError":
            raise DownloadError(_quota_message(archive)) from error
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise DownloadError(
            f"Downloading the {archive.description} failed ({reason}): check your connection and try again, or "
            f"{_by_hand(archive, destination)}."
        ) from error
    if not archive_path.is_file() or archive_path.stat().st_size == 0:
        raise DownloadError(
            f"Google Drive sent nothing for the {archive.description}: try again, or download {archive.browser_url} "
            "in a browser."
        )


def _by_hand(archive: DriveArchive, destination: Path) -> str:
    return (
        f"download {archive.browser_url} in a browser and unzip it so that "
        f"{destination / archive.unpacked_check} exists"
    )


def _quota_message(archive: DriveArchive) -> str:
    return (
        f"Google Drive refused the download (quota page); try again later or download it in a browser from "
        f"{archive.browser_url}."
    )


def _refuse_non_zip(archive_path: Path, archive: DriveArchive) -> None:
    with open(archive_path, "rb") as opened:
        head = opened.read(2048)
    if zipfile.is_zipfile(archive_path):
        return
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        raise DownloadError(_quota_message(archive))
    raise DownloadError(
        f"{archive_path.name} from Google Drive is not a zip archive: try again, or download it in a browser from "
        f"{archive.browser_url}."
    )


def _check_member(member: zipfile.ZipInfo, archive_path: Path) -> None:
    """Refuse absolute paths, drive letters, ``..`` components and symbolic links before anything is written."""
    name = member.filename
    normalised = name.replace("\\", "/")
    parts = PurePosixPath(normalised).parts
    unsafe = (
        normalised.startswith("/")
        or (len(normalised) > 1 and normalised[1] == ":")
        or ".." in parts
        or "\x00" in name
    )
    if unsafe:
        raise DownloadError(f"{archive_path.name} has an unsafe member path ({name!r}): refused to unpack it.")
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DownloadError(f"{archive_path.name} contains a symbolic link ({name!r}): refused to unpack it.")


def _content_root(file_names: list[str], archive: DriveArchive, archive_path: Path) -> str:
    """The folder inside the zip that holds ``archive``'s files ('' for the top), or DownloadError naming what is
    missing. The reference zips have ``data/`` and ``models/`` on top; a zip without the top folder is accepted."""
    paths = [PurePosixPath(name) for name in file_names if not name.startswith("__MACOSX/")]
    if archive.what == "data":
        clips = {path.parent.parent for path in paths if path.suffix == ".mpg" and path.parent.name == "s1"}
        alignments = {
            path.parent.parent.parent
            for path in paths
            if path.suffix == ".align" and path.parent.name == "s1" and path.parent.parent.name == "alignments"
        }
        roots = sorted(clips & alignments, key=lambda root: len(root.parts))
        missing = "s1/*.mpg clips and alignments/s1/*.align files"
    else:
        indexes = {path.parent for path in paths if path.name.endswith(".index")}
        shards = {path.parent for path in paths if ".data-00000-of-" in path.name}
        roots = sorted(indexes & shards, key=lambda root: (root.name != "models", len(root.parts)))
        missing = "checkpoint.index and checkpoint.data-00000-of-00001"
    if not roots:
        raise DownloadError(
            f"{archive_path.name} does not hold the {archive.description} (no {missing} in it): download it in a "
            f"browser from {archive.browser_url}."
        )
    root = str(roots[0])
    return "" if root == "." else root


def _move_into_place(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``; when ``target`` exists, move each file over the one it replaces."""
    if not target.exists():
        os.replace(source, target)
        return
    if not target.is_dir():
        raise DownloadError(f"{target} exists and is not a folder: move it away and download again.")
    for path in sorted(source.rglob("*")):
        placed = target / path.relative_to(source)
        if path.is_dir():
            placed.mkdir(parents=True, exist_ok=True)
        else:
            placed.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, placed)
