"""What the Metrics page shows: training history, evaluation scores and published GRID results, read from files.

Files read (all optional; a missing file gives ``None`` so a page can say so instead of showing anything):

``models/history.csv``, one row per epoch, written by training::

    epoch,loss,val_loss,val_wer,val_cer,val_sentence_accuracy,lr,seconds

``models/head_history.csv``, one row per epoch of the head retraining (``python -m lipnet_training retrain-head``)::

    epoch,loss,val_loss,val_wer,val_cer,val_grid_wer,val_letter_accuracy,seconds

``models/metrics.json``, written by the evaluate command (:func:`lipnet_core.evaluation.evaluate_clips`).
Expected shape; other keys (``weights_sha256``…) are ignored and missing ones become ``None``; ``per_clip``, the
readings of every clip (``{"clip": ..., "truth": ..., "greedy": ..., "beam": ..., "grid": ...}``), gives the share of
clips with each GRID word right::

    {
      "decoders": {
        "greedy": {"wer": 0.12, "cer": 0.05, "sentence_accuracy": 0.6},
        "beam":   {"wer": ..., "cer": ..., "sentence_accuracy": ...},
        "grid":   {"wer": ..., "cer": ..., "sentence_accuracy": ...}
      },
      "clips": 90,
      "evaluated_on": "the 'test' clips of models/split.json",   (or "split": "test")
      "weights": "models/lipnet.weights.h5", "trained_weights": true, "date": "2025-11-21"
    }

A flat ``{"greedy": {...}, "beam": {...}}`` (no ``decoders`` key) is read the same way.

``assets/published_results.csv``: ``system,setting,cer,wer,source`` with rates as fractions (0.048 = 4.8 %).
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lipnet_core import paths
from lipnet_core.errors import LipNetError
from lipnet_core.grid_sentences import GRID_SLOT_NAMES, is_grid_sentence
from lipnet_core.metrics import slot_accuracy as share_right_per_slot

SCORE_NAMES = ("wer", "cer", "sentence_accuracy")


def load_history(path: str | Path | None = None) -> pd.DataFrame | None:
    """The training history indexed by epoch (numeric columns only), or None when the file is absent or empty."""
    path = Path(path or paths.HISTORY_PATH)
    if not path.is_file():
        return None
    try:
        history = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise LipNetError(f"Cannot read the training history {path}: {error}.") from error
    if history.empty or "epoch" not in history.columns:
        return None
    history = history.apply(pd.to_numeric, errors="coerce").dropna(subset=["epoch"])
    history["epoch"] = history["epoch"].astype(int)
    return history.set_index("epoch").sort_index()


def load_head_history(path: str | Path | None = None) -> pd.DataFrame | None:
    """The head retraining's history, as :func:`load_history` reads it; None when the weights had no such stage."""
    return load_history(path or paths.HEAD_HISTORY_PATH)


def _rate(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Evaluation:
    """Scores per decoder from ``metrics.json`` and what they were measured on."""

    scores: pd.DataFrame  # index: decoder; columns: wer, cer, sentence_accuracy (fractions, NaN when missing)
    clips: int | None
    clip_set: str | None  # which clips, e.g. "the 'test' clips of models/split.json"
    weights: str | None
    trained_weights: bool | None
    date: str | None
    slot_accuracy: pd.DataFrame | None = None  # see :func:`slot_accuracy`
    speakers: tuple[str, ...] = ("s1",)
    crop: str = "grid"
    per_clip: tuple = ()  # each clip's truth and readings, as metrics.json has them

    def words_right(self) -> pd.Series | None:
        """Per decoder, the share of GRID words read right (the six slots' shares averaged)."""
        return None if self.slot_accuracy is None else self.slot_accuracy.mean(axis=0)

    def measured_on(self) -> str:
        """One sentence saying what the scores were measured on."""
        count = f"{self.clips} clips" if self.clips else "an unstated number of clips"
        text = f"Measured on {self.clip_set} ({count})" if self.clip_set else f"Measured on {count}"
        text += f" of GRID speaker {', '.join(speaker.lstrip('s') for speaker in self.speakers)}"
        if self.crop != "grid":
            text += f", {self.crop} crop"
        if self.weights:
            text += f", weights {self.weights}"
        if self.date:
            text += f", on {self.date}"
        return text + "."

    def hardest_slot(self) -> "HardestSlot":
        """The GRID slot whose best decoder reads it right least often (needs ``slot_accuracy``)."""
        best_decoder = self.slot_accuracy.idxmax(axis=1)
        slot = self.slot_accuracy.max(axis=1).idxmin()
        return HardestSlot(slot, best_decoder[slot], float(self.slot_accuracy.loc[slot, best_decoder[slot]]))


@dataclass(frozen=True)
class HardestSlot:
    slot: str
    decoder: str
    share: float


def slot_accuracy(per_clip) -> pd.DataFrame | None:
    """Share of clips whose reading has the word of each GRID slot right (index: slot; columns: decoders).

    Counted over the rows whose truth is a GRID sentence, with :func:`~lipnet_core.metrics.grid_words_right`, so a
    reading that drops a word is wrong in that slot only. None when no row has a truth and a reading.
    """
    rows = [row for row in per_clip if isinstance(row, dict) and is_grid_sentence(str(row.get("truth")))]
    decoders = [name for name in dict.fromkeys(key for row in rows for key in row) if name not in ("clip", "truth")]
    decoders = [name for name in decoders if all(isinstance(row.get(name), str) for row in rows)]
    if not rows or not decoders:
        return None
    truths = [row["truth"] for row in rows]
    right = {name: share_right_per_slot(truths, [row[name] for row in rows]) for name in decoders}
    return pd.DataFrame(right, index=pd.Index(GRID_SLOT_NAMES, name="word"))


def evaluation_document(path: str | Path | None = None) -> dict | None:
    """The JSON object of ``metrics.json`` (or another evaluation file), or None when it is absent or not an
    object. Raises LipNetError when it cannot be read."""
    path = Path(path or paths.METRICS_PATH)
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise LipNetError(f"Cannot read the evaluation results {path}: {error}.") from error
    return document if isinstance(document, dict) else None


def load_evaluation(path: str | Path | None = None) -> Evaluation | None:
    """Read ``metrics.json`` tolerantly (see the module docstring); None when absent or holding no decoder."""
    document = evaluation_document(path)
    if document is None:
        return None
    decoders = document.get("decoders", document)
    rows = {}
    for name, values in (decoders or {}).items() if isinstance(decoders, dict) else ():
        if isinstance(values, dict) and any(key in values for key in SCORE_NAMES):
            rows[str(name)] = {key: _rate(values.get(key)) for key in SCORE_NAMES}
    if not rows:
        return None
    clips = document.get("clips")
    clip_set = document.get("evaluated_on") or (f"the '{document['split']}' clips" if document.get("split") else None)
    trained = document.get("trained_weights")
    return Evaluation(
        scores=pd.DataFrame.from_dict(rows, orient="index", columns=list(SCORE_NAMES)).astype(float),
        clips=int(clips) if isinstance(clips, (int, float)) and clips > 0 else None,
        clip_set=str(clip_set) if clip_set else None,
        weights=str(document["weights"]) if document.get("weights") else None,
        trained_weights=trained if isinstance(trained, bool) else None,
        date=str(document["date"]) if document.get("date") else None,
        slot_accuracy=slot_accuracy(per_clip) if isinstance(per_clip := document.get("per_clip"), list) else None,
        speakers=tuple(str(speaker) for speaker in document.get("speakers") or ("s1",)),
        crop=str(document.get("crop") or "grid"),
        per_clip=tuple(row for row in per_clip if isinstance(row, dict)) if isinstance(per_clip, list) else (),
    )


def seen_and_unseen(held_out: Evaluation, trained_on: Evaluation | None) -> pd.DataFrame:
    """Per decoder, words and sentences right on held-out clips and (when evaluated) on the clips trained on, in %."""
    columns = {}
    for name, evaluation in (("held out", held_out), ("trained on", trained_on)):
        if evaluation is None:
            continue
        words = evaluation.words_right()
        if words is not None:
            columns[f"{name}: words right"] = words
        columns[f"{name}: sentences right"] = evaluation.scores["sentence_accuracy"]
    return pd.DataFrame(columns).mul(100).rename_axis("decoder").reset_index()


def unseen_speakers(models_dir: str | Path | None = None) -> pd.DataFrame | None:
    """One row per other GRID speaker evaluated (``metrics_sN.json``): clips, crop, and each decoder's WER / CER."""
    rows = []
    for path in sorted(Path(models_dir or paths.MODELS_DIR).glob(paths.UNSEEN_METRICS_GLOB),
                       key=lambda path: int(path.stem.removeprefix("metrics_s"))):
        evaluation = load_evaluation(path)
        if evaluation is None:
            continue
        row = {"speaker": path.stem.removeprefix("metrics_s"), "clips": evaluation.clips, "crop": evaluation.crop}
        for decoder, scores in evaluation.scores.iterrows():
            row[f"{decoder} WER"], row[f"{decoder} CER"] = scores["wer"], scores["cer"]
        rows.append(row)
    return pd.DataFrame(rows) if rows else None


def load_adaptation_study(path: str | Path | None = None) -> dict | None:
    """The measured adaptation figures (``models/adaptation_study.json``, written by
    ``experiments/adaptation_study.py``), or None when absent."""
    path = Path(path or paths.ADAPTATION_STUDY_PATH)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise LipNetError(f"Cannot read the adaptation figures {path}: {error}.") from error


def adaptation_minutes(rows: list[dict], machine: str | None) -> str:
    """What each adaptation of the study took, by sentences recorded, for the Teach page: the seconds are the study's
    own (features and training), so they hold only for the machine it says it ran on."""
    rows = sorted(rows, key=lambda row: row["clips"])
    times = [f"{row['adapt_seconds_mean'] / 60:.1f} minutes with {row['clips']} sentences" for row in rows[:1]]
    times += [f"{row['adapt_seconds_mean'] / 60:.1f} with {row['clips']}" for row in rows[1:]]
    listed = times[0] if len(times) == 1 else ", ".join(times[:-1]) + " and " + times[-1]
    where = f"a {machine}" if machine else "this project's 2-core CPU"
    return f"An adaptation took {listed} on {where} (features and training)."


def load_published_epoch(path: str | Path | None = None) -> int | None:
    """The stage-1 epoch whose weights the published network keeps (``models/state.json``), or None."""
    path = Path(path or paths.MODEL_STATE_PATH)
    try:
        epoch = json.loads(path.read_text()).get("published_epoch")
    except (OSError, ValueError, AttributeError):
        return None
    return int(epoch) if isinstance(epoch, int) else None


def load_published_results(path: str | Path | None = None) -> pd.DataFrame:
    """Published GRID results: system, setting, cer, wer (fractions), source."""
    path = Path(path or paths.PUBLISHED_RESULTS_PATH)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise LipNetError(f"Cannot read the published results {path}: {error}.") from error
    missing = {"system", "setting", "cer", "wer", "source"} - set(table.columns)
    if missing:
        raise LipNetError(f"{path} lacks the columns {', '.join(sorted(missing))}.")
    return table


def comparison_table(published: pd.DataFrame, evaluation: Evaluation | None) -> pd.DataFrame:
    """Published figures and ours in one table (rates in percent), each row saying where its numbers come from."""
    rows = [
        {
            "system": row.system,
            "setting": row.setting,
            "CER %": 100 * row.cer,
            "WER %": 100 * row.wer,
            "figures": "published",
            "source": row.source,
        }
        for row in published.itertuples()
    ]
    if evaluation is not None:
        for decoder, scores in evaluation.scores.iterrows():
            rows.append(
                {
                    "system": f"this project ({decoder} decoding)",
                    "setting": f"speaker 1 only: {evaluation.clip_set or 'unstated clips'}",
                    "CER %": 100 * scores["cer"],
                    "WER %": 100 * scores["wer"],
                    "figures": "ours",
                    "source": evaluation.measured_on(),
                }
            )
    return pd.DataFrame(rows)


def footnote_sources(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Replace the ``source`` column by ``[1]``, ``[2]``… references; returns the table and the numbered sources."""
    sources = list(dict.fromkeys(table["source"]))
    numbered = table.assign(source=[f"[{sources.index(source) + 1}]" for source in table["source"]])
    return numbered, sources
