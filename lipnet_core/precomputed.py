"""Readings made before anyone asks: every GRID clip's per-frame class probabilities, computed once per weights file.

The network is the slow stage of a reading (about 0.7 s of a 0.8 s reading on a 2-core CPU); reading the video,
cutting the mouth and decoding take about 0.05 s. So ``python -m lipnet_core precompute`` runs the network over every
clip once and keeps its (T, 41) output; the app and ``evaluate --readings`` then only decode. A file answers for
one weights file (its sha256 is stored and checked) and for clips whose bytes are unchanged (each clip's sha256 is
stored and checked too), so a stale file is never used: such clips are read live.

File layout (``.npz``): ``probabilities`` (N, 41) float16, every clip's frames one after another;
``offsets`` (clips + 1,) int64 into it; ``clip_ids``, ``clip_sha256``; ``weights_sha256`` and ``crop`` (0-d strings).
float16 keeps each probability to about three significant digits: decoding the stored values gives the same text
as decoding the float32 output (checked for every clip when the file is written).
"""

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from lipnet_core.errors import LipNetError
from lipnet_core.paths import MODELS_DIR, file_sha256, replace_whole

READINGS_DIR = MODELS_DIR / "readings"
STORED_DTYPE = np.float16


def readings_path_for(weights_sha256: str) -> Path:
    """Where the precomputed readings of one weights file live: ``models/readings/<first 16 hex of its sha256>.npz``."""
    return READINGS_DIR / f"{weights_sha256[:16]}.npz"


@dataclass(frozen=True)
class PrecomputedReadings:
    """Stored per-frame class probabilities of many clips, for one weights file and one crop mode."""

    weights_sha256: str
    crop: str
    clip_ids: tuple[str, ...]
    clip_sha256: tuple[str, ...]
    offsets: np.ndarray
    probabilities: np.ndarray

    def __len__(self) -> int:
        return len(self.clip_ids)

    def __contains__(self, clip_id: str) -> bool:
        return clip_id in self._index

    @cached_property
    def _index(self) -> dict[str, int]:
        return {clip_id: position for position, clip_id in enumerate(self.clip_ids)}

    def class_probabilities(self, clip_id: str, clip_path: str | Path | None = None) -> np.ndarray | None:
        """(T, 41) float32 probabilities of a clip, or None when it is not stored or (given its path) its bytes
        differ from the clip that was read."""
        position = self._index.get(clip_id)
        if position is None:
            return None
        if clip_path is not None and file_sha256(clip_path) != self.clip_sha256[position]:
            return None
        start, end = self.offsets[position], self.offsets[position + 1]
        return self.probabilities[start:end].astype(np.float32)


def pack_readings(weights_sha256: str, crop: str, clip_ids, clip_sha256, per_clip_probabilities) -> PrecomputedReadings:
    """Join each clip's (T, 41) probabilities into one stored array."""
    lengths = [len(probabilities) for probabilities in per_clip_probabilities]
    return PrecomputedReadings(
        weights_sha256=weights_sha256,
        crop=crop,
        clip_ids=tuple(clip_ids),
        clip_sha256=tuple(clip_sha256),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        probabilities=np.concatenate(per_clip_probabilities).astype(STORED_DTYPE),
    )


def save_readings(path: str | Path, readings: PrecomputedReadings) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_whole(path, lambda temporary: np.savez_compressed(
        temporary,
        probabilities=readings.probabilities,
        offsets=readings.offsets,
        clip_ids=np.array(readings.clip_ids),
        clip_sha256=np.array(readings.clip_sha256),
        weights_sha256=np.array(readings.weights_sha256),
        crop=np.array(readings.crop),
    ))


def load_readings(path: str | Path) -> PrecomputedReadings:
    """Read a file written by :func:`save_readings`. Raises LipNetError when it is damaged."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            readings = PrecomputedReadings(
                weights_sha256=str(stored["weights_sha256"]),
                crop=str(stored["crop"]),
                clip_ids=tuple(str(clip_id) for clip_id in stored["clip_ids"]),
                clip_sha256=tuple(str(digest) for digest in stored["clip_sha256"]),
                offsets=stored["offsets"],
                probabilities=stored["probabilities"],
            )
    except (OSError, KeyError, ValueError) as error:
        raise LipNetError(f"The precomputed readings {path} cannot be read ({error}); delete the file or run "
                          "`python -m lipnet_core precompute` again.") from error
    if len(readings.offsets) != len(readings.clip_ids) + 1 or readings.offsets[-1] != len(readings.probabilities):
        raise LipNetError(f"The precomputed readings {path} are inconsistent; run `python -m lipnet_core precompute`.")
    return readings


def readings_for_weights(weights_sha256: str, directory: str | Path | None = None) -> PrecomputedReadings | None:
    """The precomputed readings made with these weights (in ``directory``, default ``models/readings``), or None
    when there are none (the app then reads live)."""
    path = Path(directory or READINGS_DIR) / readings_path_for(weights_sha256).name
    if not path.is_file():
        return None
    readings = load_readings(path)
    return readings if readings.weights_sha256 == weights_sha256 else None
