"""A short model card written beside the weights from what training and evaluation recorded.

Only the words of ``state.json`` are a person's: its ``status`` (where training stands), ``example_clip`` (a test
clip whose reading the card quotes), ``hardware`` (the machines, for a run that moved between them; ``{last_epoch}``
in it stands for the last epoch of ``history.csv``), ``notes`` (how the run went) and, when the published weights are
not the epoch with the lowest validation loss, ``published_epoch``. Every figure, the quoted reading included, is read
from the run's files, ``metrics.json`` among them.
"""

import json
import os
import platform
from pathlib import Path

from lipnet_core.grid_sentences import LETTER_POSITION
from lipnet_core.metrics import slot_accuracy
from lipnet_training.history import HEAD_HISTORY, HEAD_RECIPE, best_row, read_history, selection_key


def hardware_description() -> str:
    import keras

    processor = platform.processor() or platform.machine()
    return f"{os.cpu_count()} CPU cores ({processor}), Keras {keras.__version__} on {keras.backend.backend()}"


def reading_summary(metrics: dict, example_clip: str) -> str:
    """How test clips read, in words, from ``metrics.json``'s per-clip rows (clip, truth, greedy, grid)."""
    rows = metrics["per_clip"]
    example = {row["clip"]: row for row in rows}[example_clip]
    truths = [row["truth"] for row in rows]
    greedy = slot_accuracy(truths, [row["greedy"] for row in rows])
    grid = slot_accuracy(truths, [row["grid"] for row in rows])
    return (
        f'test clips decode to misspelt strings such as "{example["greedy"]}" (for "{example["truth"]}"), right in'
        f" their first word in {greedy[0]:.0%} of test clips and in their last in {greedy[-1]:.0%}; the GRID-grammar"
        f" decoder gets the letter right in {grid[LETTER_POSITION]:.0%} of test clips and the digit in"
        f" {grid[LETTER_POSITION + 1]:.0%}."
    )


def schedule_description(recipe: dict) -> str:
    """The learning-rate schedule of ``recipe.json`` in words, naming the epoch a warm restart began at."""
    start = recipe.get("schedule_start_epoch", 0)
    constant = f"constant for {recipe['constant_epochs']} epochs"
    if start:
        constant += f" from epoch {start + 1} (the schedule restarted after epoch {start})"
    return f"Adam {recipe['learning_rate']:g}, {constant} then ×exp(−{recipe['decay_per_epoch']:g}) per epoch"


def status_line(state: dict, metrics: dict | None) -> str:
    status = state.get("status", "see history.csv for where training stands")
    reading = f": {reading_summary(metrics, state['example_clip'])}" if metrics and "example_clip" in state else "."
    return " ".join(part for part in (status + reading, state.get("notes")) if part)


def weights_line(history: list[dict], published_epoch: int | None = None, head_retrained: bool = False) -> str:
    """Which epoch the weights are: the lowest validation loss, unless ``state.json`` names another.

    A later epoch with a lower validation loss may not replace the published weights when the test clips do not
    bear it out (a 34 MB file is committed only for a better model); ``published_epoch`` then keeps the card true.
    With ``head_retrained`` only the convolutions are that epoch's (the head line says where the rest is from).
    """
    best = best_row(history)
    published = best if published_epoch is None else {row["epoch"]: row for row in history}[str(published_epoch)]

    def scores(row):
        return (f"val_loss {float(row['val_loss']):.3f}, validation greedy WER {float(row['val_wer']):.1%},"
                f" CER {float(row['val_cer']):.1%}")

    source = "the convolutions of epoch" if head_retrained else "from epoch"
    line = (f"- **Weights**: `lipnet.weights.h5` (model variables only), {source} {published['epoch']} of"
            f" {len(history)} trained ({scores(published)})")
    if published is best:
        return line + ", the epoch with the lowest validation loss."
    return line + (f"; epoch {best['epoch']}, with a lower validation loss ({float(best['val_loss']):.3f}), did not"
                   " replace it (see the notes).")


def head_line(head_recipe: dict, head_history: list[dict]) -> str:
    """The head retraining stage (``head_recipe.json``, ``head_history.csv``) in words, with its kept epoch's
    validation figures."""
    kept = min(head_history, key=selection_key)
    features = "in mixed bfloat16" if head_recipe["mixed_precision"] else "in float32"
    mirrored = ", each also mirrored" if head_recipe["flip"] else ""
    return (
        f"- **Head retrained** (`python -m lipnet_training retrain-head`): the two BiLSTMs and the softmax trained"
        f" {len(head_history)} epochs on the frozen convolutional features of that epoch (computed once, {features}),"
        f" on the {head_recipe['train_clips']} training clips{mirrored}; Adam {head_recipe['learning_rate']:g}"
        f" constant, batch {head_recipe['batch_size']}, dropout {head_recipe['feature_dropout']:g} on the features,"
        f" loss CTC + {head_recipe['letter_weight']:g} × −log(the letter's mean probability over its aligned frames);"
        f" kept epoch {kept['epoch']}, the lowest validation greedy WER ({float(kept['val_wer']):.1%}, CER"
        f" {float(kept['val_cer']):.1%}; grid-decoder WER {float(kept['val_grid_wer']):.1%}, letter right in"
        f" {float(kept['val_letter_accuracy']):.0%} of validation clips)."
    )


def head_minutes(head_recipe: dict, head_history: list[dict]) -> float:
    return (head_recipe.get("feature_seconds", 0.0) + sum(float(row["seconds"]) for row in head_history)) / 60


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
    wall_hours = sum(float(row["seconds"]) for row in history) / 3600
    hardware = state["hardware"].format(last_epoch=history[-1]["epoch"]) if "hardware" in state else None
    lines = [
        "# LipNet, GRID speaker 1: model card",
        "",
        "Written by `lipnet_training.card` from `recipe.json`, `history.csv`, `split.json` and `metrics.json`"
        + (" (and the head retraining's `head_recipe.json` and `head_history.csv`)." if head_history else "."),
        "",
        weights_line(history, state.get("published_epoch"), head_retrained=bool(head_history)),
        f"- **Data**: GRID corpus speaker 1, {len(split['train'])} training clips, {len(split['validation'])} validation"
        f" clips (model selection), {len(split['test'])} test clips never used for training or selection"
        " (`split.json`).",
        f"- **Recipe**: {schedule_description(recipe)}; batch {recipe['batch_size']}; CTC loss (blank 40);"
        f" clipnorm {recipe['clipnorm']}; mixed bfloat16: {recipe['mixed_precision']};"
        f" early-stopping patience {recipe['patience']}; windows around the spoken words with"
        f" {recipe['full_clip_fraction']:.0%} of batches on whole clips (wide window jitter:"
        f" {recipe.get('wide_jitter', False)}); left-right flips: {recipe['flip']}.",
        *([head_line(head_recipe, head_history)] if head_history else []),
        f"- **Hardware**: {hardware or hardware_description()}.",
        f"- **Wall time**: {wall_hours:.1f} h of training over {len(history)} epochs (validation included)"
        + (f", then {head_minutes(head_recipe, head_history):.0f} min retraining the head." if head_history else "."),
        "- **Status**: " + status_line(state, metrics),
        "",
    ]
    path = out_dir / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path
