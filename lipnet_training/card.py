"""The model card: one screen beside the weights, written from the files that made them.

A card typed by hand drifts from the weights it describes, so every figure on it is read from the run's files
(``split.json``, ``recipe.json``, ``history.csv``, the head stage's ``head_recipe.json`` and ``head_history.csv``,
and ``metrics.json``), and ``tests/training/test_model_card.py`` regenerates the committed card and compares. Only
``state.json`` holds a person's words: ``status`` (where the model stands), ``example_clip`` (a test clip whose
reading the card quotes), ``hardware`` (the machines, for a run that moved between them), ``limits`` (what the model
cannot do, one sentence each) and, when the published weights are not the epoch with the lowest validation loss,
``published_epoch``. How the run got there belongs in ``docs/experiments.md``, which the card links to, not on it.
"""

import json
import os
import platform
from pathlib import Path

from lipnet_core.grid_sentences import LETTER_POSITION
from lipnet_core.metrics import slot_accuracy
from lipnet_training.history import HEAD_HISTORY, HEAD_RECIPE, best_row, read_history, selection_key

DECODERS = (("greedy", "greedy"), ("beam", "beam search"), ("grid", "GRID grammar"))
DOCS = "[docs/training.md](../docs/training.md)", "[docs/experiments.md](../docs/experiments.md)"


def hardware_description() -> str:
    import keras

    processor = platform.processor() or platform.machine()
    return f"{os.cpu_count()} CPU cores ({processor}), Keras {keras.__version__} on {keras.backend.backend()}"


def schedule_description(recipe: dict) -> str:
    """The learning-rate schedule of ``recipe.json`` in words, naming the epoch a warm restart began at."""
    start = recipe.get("schedule_start_epoch", 0)
    restart = f" (restarted after epoch {start})" if start else ""
    return (f"Adam {recipe['learning_rate']:g} for epochs {start + 1}–{start + recipe['constant_epochs']}{restart},"
            f" then ×exp(−{recipe['decay_per_epoch']:g}) per epoch")


def published_row(history: list[dict], published_epoch: int | None = None) -> dict:
    """The epoch whose weights are published: the lowest validation loss, unless ``state.json`` names another.

    A later epoch with a lower validation loss may not replace the published weights when held-out readings do not
    bear it out (a 34 MB file is committed only for a better model); ``published_epoch`` then keeps the card true.
    """
    if published_epoch is None:
        return best_row(history)
    return {row["epoch"]: row for row in history}[str(published_epoch)]


def train_line(recipe: dict, history: list[dict], published_epoch: int | None = None) -> str:
    """Stage 1, the whole network (``recipe.json``, ``history.csv``), and the epoch kept from it."""
    best, published = best_row(history), published_row(history, published_epoch)
    windows = f"windows around the words ({recipe['full_clip_fraction']:.0%} whole clips)"
    flips = ", left-right flips" if recipe["flip"] else ""
    line = (f"- **Stage 1, `train`**: the whole network, CTC loss, batch {recipe['batch_size']}, {windows}{flips};"
            f" {schedule_description(recipe)}; kept epoch {published['epoch']} of {len(history)}"
            f" (val_loss {float(published['val_loss']):.3f}, validation greedy WER {float(published['val_wer']):.1%})")
    if published is best:
        return line + ", the lowest validation loss."
    lower = f"{float(best['val_loss']):.3f}"
    return line + f"; epoch {best['epoch']}'s lower val_loss ({lower}) was not kept (see the log)."


def head_line(head_recipe: dict, head_history: list[dict]) -> str:
    """Stage 2, the head retrained (``head_recipe.json``, ``head_history.csv``), and the epoch kept from it."""
    kept = min(head_history, key=selection_key)
    mirrored = ", each also mirrored" if head_recipe["flip"] else ""
    return (
        f"- **Stage 2, `retrain-head`**: the two BiLSTMs and the softmax retrained {len(head_history)} epochs on"
        f" stage 1's frozen convolutional features ({head_recipe['train_clips']} clips{mirrored});"
        f" Adam {head_recipe['learning_rate']:g}, batch {head_recipe['batch_size']}, dropout"
        f" {head_recipe['feature_dropout']:g} on the features, loss CTC + {head_recipe['letter_weight']:g} × a letter"
        f" term; kept epoch {kept['epoch']}, the lowest validation greedy WER ({float(kept['val_wer']):.1%}; grid WER"
        f" {float(kept['val_grid_wer']):.1%}, letter right in {float(kept['val_letter_accuracy']):.0%})."
    )


def head_minutes(head_recipe: dict, head_history: list[dict]) -> float:
    return (head_recipe.get("feature_seconds", 0.0) + sum(float(row["seconds"]) for row in head_history)) / 60


def wall_time_line(history: list[dict], published_epoch: int | None, head_recipe: dict | None,
                   head_history: list[dict]) -> str:
    """Hours of stage 1 (and up to the kept epoch, when later epochs were not kept), minutes of stage 2."""
    def hours(rows):
        return sum(float(row["seconds"]) for row in rows) / 3600

    published = int(published_row(history, published_epoch)["epoch"])
    line = f"- **Wall time**: {hours(history):.1f} h for stage 1's {len(history)} epochs (validation included"
    if published < int(history[-1]["epoch"]):
        line += f"; {hours(row for row in history if int(row['epoch']) <= published):.1f} h to epoch {published}"
    line += ")"
    if head_history:
        return line + f", {head_minutes(head_recipe, head_history):.0f} min for stage 2."
    return line + "."


def metrics_lines(metrics: dict) -> list[str]:
    """The test scores of ``metrics.json`` as a table, one row per decoder, with what they were measured on."""
    weights = metrics.get("weights_sha256", "")
    lines = [
        f"On {metrics['evaluated_on']} ({metrics['clips']} clips)"
        + (f", weights sha256 {weights[:8]}…" if weights else "") + " (`metrics.json`):",
        "",
        "| Decoder | WER | CER | Sentences right |",
        "|---|---|---|---|",
    ]
    for key, name in DECODERS:
        if key in metrics["decoders"]:
            scores = metrics["decoders"][key]
            lines.append(f"| {name} | {scores['wer']:.1%} | {scores['cer']:.1%} | {scores['sentence_accuracy']:.1%} |")
    return lines


def reading_summary(metrics: dict, example_clip: str) -> str:
    """One test clip's greedy reading, and how often the GRID-grammar decoder gets the letter, the digit and the
    other words right, from ``metrics.json``'s per-clip rows (clip, truth, greedy, grid)."""
    rows = metrics["per_clip"]
    example = {row["clip"]: row for row in rows}[example_clip]
    grid = slot_accuracy([row["truth"] for row in rows], [row["grid"] for row in rows])
    others = [share for position, share in enumerate(grid) if position not in (LETTER_POSITION, LETTER_POSITION + 1)]
    return (
        f'For example the greedy decoder reads "{example["greedy"]}" for "{example["truth"]}". The GRID-grammar'
        f" decoder gets the letter (the fourth word) right in {grid[LETTER_POSITION]:.0%} of test clips, the digit"
        f" in {grid[LETTER_POSITION + 1]:.0%} and each other word in at least {min(others):.0%}."
    )


def other_speakers_lines(out_dir: Path) -> list[str]:
    """The published weights on GRID speakers they never saw (``metrics_sN.json``), and what adaptation gave
    (``adaptation_study.json``); none when neither file exists."""
    from lipnet_core.demo.results import load_adaptation_study, unseen_speakers

    table, study = unseen_speakers(out_dir), load_adaptation_study(out_dir / "adaptation_study.json")
    if table is None and study is None:
        return []
    lines = ["", "## Other speakers", ""]
    if table is not None:
        lines += ["All clips of each speaker in the shared GRID folder, mouth found by the face detector:", "",
                  "| Speaker | Clips | GRID-grammar WER | Greedy WER | Greedy CER |", "|---|---|---|---|---|"]
        lines += [f"| {row['speaker']} | {row['clips']} | {row['grid WER']:.1%} | {row['greedy WER']:.1%} |"
                  f" {row['greedy CER']:.1%} |" for _, row in table.iterrows()]
    if study is not None:
        lines += ["", f"After adaptation (`python -m lipnet_core adapt`; {study['what']}): {study['summary']}"
                  " (`adaptation_study.json`, docs/adaptation.md)."]
    return lines


def write_model_card(out_dir) -> Path:
    out_dir = Path(out_dir)
    recipe = json.loads((out_dir / "recipe.json").read_text())
    state = json.loads((out_dir / "state.json").read_text()) if (out_dir / "state.json").exists() else {}
    split = json.loads((out_dir / "split.json").read_text())
    metrics = json.loads((out_dir / "metrics.json").read_text()) if (out_dir / "metrics.json").exists() else None
    history = read_history(out_dir / "history.csv")
    head_recipe_path = out_dir / HEAD_RECIPE
    head_recipe = json.loads(head_recipe_path.read_text()) if head_recipe_path.exists() else None
    head_history = read_history(out_dir / HEAD_HISTORY) if head_recipe else []
    published_epoch = state.get("published_epoch")
    lines = [
        "# LipNet, GRID speaker 1: model card",
        "",
        f"Written by `python -m lipnet_training model-card` from the files beside it. How to train: {DOCS[0]};"
        f" what was tried and why: {DOCS[1]}.",
        "",
        f"- **Status**: {state.get('status', 'see history.csv for where training stands')}.",
        f"- **Data**: GRID corpus speaker 1: {len(split['train'])} training clips, {len(split['validation'])}"
        f" validation clips (model selection), {len(split['test'])} test clips used for neither (`split.json`).",
        train_line(recipe, history, published_epoch),
        *([head_line(head_recipe, head_history)] if head_history else []),
        f"- **Hardware**: {state.get('hardware') or hardware_description()}.",
        wall_time_line(history, published_epoch, head_recipe, head_history),
        "",
        "## Test metrics",
        "",
    ]
    if metrics:
        lines += metrics_lines(metrics)
        if "example_clip" in state:
            lines += ["", reading_summary(metrics, state["example_clip"])]
    else:
        lines.append("Not evaluated yet: `python -m lipnet_core evaluate … --output metrics.json` (docs/training.md).")
    lines += other_speakers_lines(out_dir)
    if state.get("limits"):
        lines += ["", "## Known limits", "", *(f"- {limit}" for limit in state["limits"])]
    lines.append("")
    path = out_dir / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path
