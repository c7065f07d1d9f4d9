"""Where the GRID clips and alignments are, and the deterministic train / validation / test split.

Layout (the reference ``data.zip``'s and ``../shared/grid``'s), for any speaker ``sN``::

    DATA_DIR/sN/<id>.mpg or <id>.mp4
    DATA_DIR/alignments/sN/<id>.align      (optional: without it the sentence comes from the clip id)
"""

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lipnet_core.alignments import load_alignment
from lipnet_core.errors import DataDirError
from lipnet_core.grid_sentences import sentence_from_id

DATA_DIR_VARIABLE = "LIPNET_DATA_DIR"
DEFAULT_DATA_DIR = Path("data")
DEFAULT_SPEAKER = "s1"  # the speaker the published network was trained on
CLIP_SUFFIXES = (".mpg", ".mp4")


def data_dir(explicit: str | Path | None = None) -> Path:
    """The data directory: an explicit path, else ``$LIPNET_DATA_DIR``, else ``./data``."""
    return Path(explicit or os.environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR)


@dataclass(frozen=True)
class GridClip:
    """One clip of a GRID speaker; ``alignment_path`` is None when the corpus gave no alignment for it."""

    clip_id: str
    video_path: Path
    alignment_path: Path | None
    speaker: str = DEFAULT_SPEAKER

    def sentence(self) -> str:
        """What was said: from the alignment when there is one, else from the clip id."""
        if self.alignment_path is not None:
            return load_alignment(self.alignment_path).sentence
        sentence = sentence_from_id(self.clip_id)
        if sentence is None:
            raise DataDirError(f"{self.clip_id} has no alignment and its name spells no GRID sentence.")
        return sentence


def find_video(directory: str | Path, clip_id: str, speaker: str = DEFAULT_SPEAKER) -> Path | None:
    for suffix in CLIP_SUFFIXES:
        candidate = Path(directory) / speaker / f"{clip_id}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def check_speaker(speaker: str) -> str:
    """A speaker folder name such as ``s1`` or ``s26``; anything else (a path, say) is refused."""
    if not re.fullmatch(r"s[1-9][0-9]?", str(speaker)):
        raise DataDirError(f"{speaker!r} is not a GRID speaker: use s1 … s34.")
    return str(speaker)


def list_clips(directory: str | Path | None = None, speaker: str = DEFAULT_SPEAKER) -> list[GridClip]:
    """Every clip of ``speaker`` in the data directory whose sentence is known, sorted by id: clips with an
    alignment, and clips without one whose id spells a GRID sentence."""
    directory = data_dir(directory)
    speaker = check_speaker(speaker)
    video_dir, alignment_dir = directory / speaker, directory / "alignments" / speaker
    if not video_dir.is_dir():
        raise DataDirError(
            f"No GRID data in {directory}: expected {speaker}/<id>.mp4 (and alignments/{speaker}/<id>.align); "
            f"set {DATA_DIR_VARIABLE} or run 'python -m lipnet_core download data'."
        )
    videos = {}
    for suffix in CLIP_SUFFIXES:  # .mpg first: the corpus's own file wins over a re-encode of it
        for path in sorted(video_dir.glob(f"*{suffix}")):
            videos.setdefault(path.stem, path)
    clips = []
    for clip_id, video_path in sorted(videos.items()):
        alignment_path = alignment_dir / f"{clip_id}.align"
        if alignment_path.is_file():
            clips.append(GridClip(clip_id, video_path, alignment_path, speaker))
        elif sentence_from_id(clip_id) is not None:
            clips.append(GridClip(clip_id, video_path, None, speaker))
    if not clips:
        raise DataDirError(f"{video_dir} holds no clip whose sentence is known (an alignment, or a GRID id).")
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
