"""``history.csv``: one row per training epoch, written by training and read back by resume and the model card."""

import csv
from pathlib import Path

HISTORY_FIELDS = ("epoch", "loss", "val_loss", "val_wer", "val_cer", "val_sentence_accuracy", "lr", "seconds")


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
