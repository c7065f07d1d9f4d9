"""Human vs machine: which held-out clip each round shows, the model's measured reading of it, and the scores.

The model's side is not run live: it is the GRID-grammar decoder's reading of each test clip that
``python -m lipnet_core evaluate`` wrote to ``models/metrics.json`` (``per_clip``), so a round costs no model load and
the player races the very readings the Metrics page scores. Both sides are scored with
:func:`~lipnet_core.metrics.grid_words_right`. Nothing here imports Streamlit.
"""

import random
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lipnet_core import paths
from lipnet_core.demo.results import evaluation_document
from lipnet_core.errors import ClipError
from lipnet_core.grid_sentences import GRID_GRAMMAR, GRID_SLOT_NAMES, is_grid_sentence
from lipnet_core.metrics import grid_words_right
from lipnet_core.uploads import saved_upload
from lipnet_core.video import ffmpeg_executable

MODEL_DECODER = "grid"  # the decoder whose readings the player races: it only ever reads a GRID sentence
WORDS_PER_SENTENCE = len(GRID_SLOT_NAMES)
FFMPEG_TIMEOUT_SECONDS = 60
MAX_SEED = 999_999  # short enough for a teacher to read out


@dataclass(frozen=True)
class MeasuredReading:
    """One test clip as ``metrics.json`` recorded it: what was said and what the model read."""

    truth: str
    reading: str


def load_model_readings(
    path: str | Path | None = None, decoder: str = MODEL_DECODER
) -> dict[str, MeasuredReading] | None:
    """``{clip id: MeasuredReading}`` from the ``per_clip`` rows of ``metrics.json`` whose truth is a GRID sentence
    and that hold a ``decoder`` reading; None when the file is absent. Raises LipNetError when it cannot be read."""
    path = Path(path or paths.METRICS_PATH)
    if not path.is_file():
        return None
    document = evaluation_document(path) or {}
    rows = document.get("per_clip")
    readings = {}
    for row in rows if isinstance(rows, list) else ():
        if not isinstance(row, dict):
            continue
        clip, truth, reading = row.get("clip"), row.get("truth"), row.get(decoder)
        if isinstance(clip, str) and isinstance(truth, str) and is_grid_sentence(truth) and isinstance(reading, str):
            readings[clip] = MeasuredReading(truth, reading)
    return readings


def quiz_clip_ids(readings: Iterable[str], held_out: Iterable[str], available: Iterable[str]) -> list[str]:
    """The clips a round may show, sorted: held out from training, read by the model, and present on disk."""
    return sorted(set(readings) & set(held_out) & set(available))


def quiz_clip(clip_ids: Sequence[str], seed: int, round_index: int) -> str:
    """The clip of round ``round_index`` (0-based) of the game ``seed``: the same for everyone with that seed.

    Every pass of ``len(clip_ids)`` rounds shows each clip once, in an order shuffled by the seed and the pass; the
    order does not depend on how ``clip_ids`` is sorted.
    """
    if not clip_ids:
        raise ValueError("There is no clip to quiz on.")
    if int(round_index) != round_index or round_index < 0:
        raise ValueError(f"round_index must be a whole number of at least 0, got {round_index}.")
    order = sorted(set(clip_ids))
    game_pass, position = divmod(int(round_index), len(order))
    random.Random(f"{int(seed)}:{game_pass}").shuffle(order)  # a str seed is hashed the same way on every run
    return order[position]


def missing_slots(picks: Sequence[str | None]) -> list[str]:
    """The names of the GRID slots (command … adverb) the player left empty."""
    if len(picks) != WORDS_PER_SENTENCE:
        raise ValueError(f"Expected {WORDS_PER_SENTENCE} picks, one per GRID slot, got {len(picks)}.")
    return [name for name, pick in zip(GRID_SLOT_NAMES, picks) if not pick]


def incomplete_answer_message(missing: Sequence[str]) -> str:
    return (f"Pick a word in every slot before checking: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} still empty. Nothing was scored.")


@dataclass(frozen=True)
class RoundResult:
    """One answered round. ``your_right`` / ``model_right``: for each word of the truth, whether that side has it."""

    round_number: int  # 1-based, as the page says it
    clip_id: str
    truth: str
    answer: str
    model_reading: str
    your_right: tuple[bool, ...]
    model_right: tuple[bool, ...]

    @property
    def your_score(self) -> int:
        return sum(self.your_right)

    @property
    def model_score(self) -> int:
        return sum(self.model_right)


def score_round(
    round_number: int, clip_id: str, truth: str, picks: Sequence[str | None], model_reading: str
) -> RoundResult:
    """Score a complete answer (one word per slot) and the model's reading against the truth.

    Raises ValueError when a slot is empty or a pick is not a word of its slot: an incomplete answer is never scored.
    """
    missing = missing_slots(picks)
    if missing:
        raise ValueError(incomplete_answer_message(missing))
    for name, pick, slot in zip(GRID_SLOT_NAMES, picks, GRID_GRAMMAR):
        if pick not in slot:
            raise ValueError(f"{pick!r} is not a GRID {name}.")
    answer = " ".join(picks)
    return RoundResult(
        round_number=round_number,
        clip_id=clip_id,
        truth=truth,
        answer=answer,
        model_reading=model_reading,
        your_right=tuple(grid_words_right(truth, answer)),
        model_right=tuple(grid_words_right(truth, model_reading)),
    )


def verdict(result: RoundResult) -> str:
    if result.your_score > result.model_score:
        return "You beat the model this round."
    if result.your_score < result.model_score:
        return "The model wins this round."
    return "A draw this round."


def word_table(result: RoundResult) -> pd.DataFrame:
    """One row per GRID slot: the true word, your pick and the model's word, each marked ✓ or ✗.

    A reading that is not a GRID sentence (a word dropped or misspelt) has no word per slot: its column then shows
    the words it has right and a bare ✗ elsewhere; the page shows the whole reading beside the table.
    """
    truth_words = result.truth.split()
    if is_grid_sentence(result.model_reading):
        model_words = result.model_reading.split()
    else:
        model_words = [word if right else "" for word, right in zip(truth_words, result.model_right)]

    def marked(words, rights):
        return [f"{'✓' if right else '✗'} {word}".rstrip() for word, right in zip(words, rights)]

    return pd.DataFrame(
        {
            "word": GRID_SLOT_NAMES,
            "said": truth_words,
            "you": marked(result.answer.split(), result.your_right),
            "model": marked(model_words, result.model_right),
        }
    )


@dataclass(frozen=True)
class Totals:
    """The running scoreboard of one session."""

    rounds: int
    your_words: int
    model_words: int
    your_sentences: int
    model_sentences: int

    @property
    def words_possible(self) -> int:
        return WORDS_PER_SENTENCE * self.rounds


def totals(results: Sequence[RoundResult]) -> Totals:
    return Totals(
        rounds=len(results),
        your_words=sum(result.your_score for result in results),
        model_words=sum(result.model_score for result in results),
        your_sentences=sum(all(result.your_right) for result in results),
        model_sentences=sum(all(result.model_right) for result in results),
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def class_view_lines(seed: int, board: Totals) -> list[str]:
    """The class view's large-print lines (Markdown headings): the game, and each side's running totals."""
    return [
        f"## Game {seed}: {_count(board.rounds, 'round')} played",
        f"# You: {board.your_words} of {_count(board.words_possible, 'word')} right, "
        f"{_count(board.your_sentences, 'whole sentence')}",
        f"# LipNet: {board.model_words} of {_count(board.words_possible, 'word')} right, "
        f"{_count(board.model_sentences, 'whole sentence')}",
    ]


def rounds_table(results: Sequence[RoundResult]) -> pd.DataFrame:
    """One row per answered round, for the class view."""
    columns = ["round", "clip", "said", "your answer", "model's reading", "you", "model"]
    return pd.DataFrame(
        [
            [result.round_number, result.clip_id, result.truth, result.answer, result.model_reading,
             f"{result.your_score} / {WORDS_PER_SENTENCE}", f"{result.model_score} / {WORDS_PER_SENTENCE}"]
            for result in results
        ],
        columns=columns,
    )


def seed_from_text(text: str | None) -> int | None:
    """A seed from the page address (``?seed=7``): a whole number from 0 to 999,999, else None."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        return None
    return seed if 0 <= seed <= MAX_SEED else None


def silent_video(video: bytes) -> bytes:
    """The MP4 ``video`` without its sound track (the video stream is copied, not re-encoded): a quiz clip's audio
    would give the answer away, and a muted player can be unmuted."""
    with saved_upload(video, "clip.mp4", prefix="lipnet-quiz-") as source:
        destination = source.with_name("silent.mp4")
        command = [ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
                   "-map", "0:v:0", "-c", "copy", "-an", "-movflags", "+faststart", str(destination)]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as error:
            raise ClipError("Removing the clip's sound took too long; try the next round.") from error
        if completed.returncode != 0 or not destination.is_file() or destination.stat().st_size == 0:
            raise ClipError("The clip could not be prepared for the quiz: it is not a readable MP4.")
        return destination.read_bytes()
