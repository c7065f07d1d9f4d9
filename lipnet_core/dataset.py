"""Where the GRID clips and alignments are, and the deterministic train / validation / test split.

Layout (the reference ``data.zip``'s and ``../shared/grid``'s)::

    DATA_DIR/s1/<id>.mpg or <id>.mp4
    DATA_DIR/alignments/s1/<id>.align
"""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from lipnet_core.errors import DataDirError

DATA_DIR_VARIABLE = "LIPNET_DATA_DIR"
DEFAULT_DATA_DIR = Path("data")
SPEAKER = "s1"
CLIP_SUFFIXES = (".mpg", ".mp4")


def data_dir(explicit: str | Path | None = None) -> Path:
    """The data directory: an explicit path, else ``$LIPNET_DATA_DIR``, else ``./data``."""
    return Path(explicit or os.environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR)


@dataclass(frozen=True)
class GridClip:
    clip_id: str
    video_path: Path
    alignment_path: Path


def find_video(directory: Path, clip_id: str) -> Path | None:
    for suffix in CLIP_SUFFIXES:
        candidate = directory / SPEAKER / f"{clip_id}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def list_clips(directory: str | Path | None = None) -> list[GridClip]:
    """Every clip in the data directory that has both a video and an alignment, sorted by id."""
    directory = data_dir(directory)
    alignment_dir = directory / "alignments" / SPEAKER
    if not (directory / SPEAKER).is_dir() or not alignment_dir.is_dir():
        raise DataDirError(
            f"No GRID data in {directory}: expected {SPEAKER}/<id>.mp4 and alignments/{SPEAKER}/<id>.align; "
            f"set {DATA_DIR_VARIABLE} or run 'python -m lipnet_core download data'."
        )
    clips = []
    for alignment_path in sorted(alignment_dir.glob("*.align")):
        video_path = find_video(directory, alignment_path.stem)
        if video_path is not None:
            clips.append(GridClip(alignment_path.stem, video_path, alignment_path))
    if not clips:
        raise DataDirError(f"{directory} has alignments but no matching clips in {directory / SPEAKER}.")
    return clips


def split_clip_ids(clip_ids, test_fraction: float = 0.10, validation_fraction: float = 0.05) -> dict:
    """Split ids by a hash of the id, so the split does not depend on which other clips are present or their order."""
    ordered = sorted(set(clip_ids), key=lambda clip_id: hashlib.sha256(clip_id.encode()).hexdigest())
    num_test = round(len(ordered) * test_fraction)
    num_validation = round(len(ordered) * validation_fraction)
    return {
        "test": sorted(ordered[:num_test]),
        "validation": sorted(ordered[num_test : num_test + num_validation]),
        "train": sorted(ordered[num_test + num_validation :]),
    }


def save_split(split: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(split, indent=1) + "\n")


def load_split(path: str | Path) -> dict:
    try:
        split = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise DataDirError(f"Cannot read the split file {path}: {error}.") from error
    if not {"train", "validation", "test"} <= split.keys():
        raise DataDirError(f"{path} must list 'train', 'validation' and 'test' clip ids.")
    return split
