"""``history.csv``: one row per training epoch, written by training and read back by resume and the model card; and
``head_history.csv``, one row per epoch of the head retraining (:mod:`lipnet_training.head`)."""

import csv
from pathlib import Path

from lipnet_core.paths import HEAD_HISTORY_NAME

HISTORY_FIELDS = ("epoch", "loss", "val_loss", "val_wer", "val_cer", "val_sentence_accuracy", "lr", "seconds")
HEAD_HISTORY = HEAD_HISTORY_NAME
HEAD_RECIPE = "head_recipe.json"
HEAD_HISTORY_FIELDS = ("epoch", "loss", "val_loss", "val_wer", "val_cer", "val_grid_wer", "val_letter_accuracy",
                       "seconds")


def read_history(path: Path) -> list[dict]:
    """The rows as dicts of strings, oldest epoch first; an absent file has none."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def append_history(path: Path, row: dict) -> None:
    """Append a row, first dropping rows of this epoch or later (left over from a run that was interrupted)."""
    rows = [r for r in read_history(path) if int(r["epoch"]) < row["epoch"]]
    rows.append({key: row[key] for key in HISTORY_FIELDS})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def best_row(rows: list[dict]) -> dict:
    """The epoch with the lowest validation loss: the one whose weights are exported."""
    return min(rows, key=lambda row: float(row["val_loss"]))


def state_from_history(history_path: Path) -> dict:
    """Training bookkeeping rebuilt from ``history.csv`` for a warm start whose ``state/`` was lost.

    Keeps the best epoch and its validation loss, so the next epoch's weights replace the exported ones only
    if they are better, and the schedule and wall time continue where the history ends.
    """
    rows = read_history(history_path)
    state = {"completed_epochs": len(rows), "training_seconds": sum(float(row["seconds"]) for row in rows)}
    if rows:
        best = best_row(rows)
        state["best_val_loss"] = float(best["val_loss"])
        state["best_epoch"] = int(best["epoch"])
        state["epochs_without_improvement"] = len(rows) - rows.index(best) - 1
    return state


def write_head_history(path: Path, rows: list[dict]) -> None:
    """Write the head retraining's rows so far (the whole file: the stage is not resumed)."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEAD_HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows({key: row[key] for key in HEAD_HISTORY_FIELDS} for row in rows)


def selection_key(row: dict) -> tuple[float, float]:
    """The head epoch kept has the lowest validation greedy WER, then grid-decoder WER (then is the earliest)."""
    return (float(row["val_wer"]), float(row["val_grid_wer"]))
