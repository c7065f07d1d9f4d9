"""GRID ``.align`` files: one ``start end word`` line per word, times in 1/25000 s (÷1000 → 25 fps frame index)."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipnet_core.errors import DataDirError
from lipnet_core.vocabulary import text_to_ids

SILENCE_TOKENS = frozenset({"sil", "sp"})
TIME_UNITS_PER_FRAME = 1000


@dataclass(frozen=True)
class Alignment:
    """The spoken words of a clip and where speech starts and ends (25 fps frame indices, end exclusive).

    ``word_spans`` holds each word's (start, end) frames, end exclusive, in the order of ``words``."""

    words: tuple[str, ...]
    speech_start_frame: int
    speech_end_frame: int
    word_spans: tuple[tuple[int, int], ...] = ()

    @property
    def sentence(self) -> str:
        return " ".join(self.words)

    @property
    def label_ids(self) -> np.ndarray:
        return text_to_ids(self.sentence)


def parse_alignment(text: str, source: str = "alignment") -> Alignment:
    """Parse the text of an ``.align`` file, dropping ``sil`` and ``sp``."""
    words, starts, ends = [], [], []
    for line_number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3:
            raise DataDirError(f"{source} line {line_number} is not 'start end word': {line!r}.")
        start, end, word = fields
        if word in SILENCE_TOKENS:
            continue
        words.append(word)
        starts.append(int(start))
        ends.append(int(end))
    if not words:
        raise DataDirError(f"{source} has no spoken words.")
    word_spans = tuple(
        (start // TIME_UNITS_PER_FRAME, -(-end // TIME_UNITS_PER_FRAME)) for start, end in zip(starts, ends)
    )
    return Alignment(
        words=tuple(words),
        speech_start_frame=min(start for start, _ in word_spans),
        speech_end_frame=max(end for _, end in word_spans),
        word_spans=word_spans,
    )


def load_alignment(path: str | Path) -> Alignment:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise DataDirError(f"Cannot read alignment {path}: {error.strerror}.") from error
    return parse_alignment(text, source=str(path))
