import shutil
from pathlib import Path

import pytest

from lipnet_training.card import (
    head_line,
    head_minutes,
    reading_summary,
    schedule_description,
    status_line,
    weights_line,
    write_model_card,
)
from lipnet_training.history import HEAD_HISTORY, HEAD_RECIPE

MODELS = Path(__file__).resolve().parents[2] / "models"

ROWS = [
    {"clip": "a", "truth": "bin blue at f two now", "greedy": "bin blu at fo now", "grid": "bin blue at e four now"},
    {"clip": "b", "truth": "lay red by c five soon", "greedy": "la red by ce five son",
     "grid": "lay red by e five soon"},
    {"clip": "c", "truth": "set white in u zero please", "greedy": "", "grid": "set white in u zero please"},
    {"clip": "d", "truth": "place green with a one again", "greedy": "place gren wit a one again",
     "grid": "place green with q one again"},
]


def test_reading_summary_quotes_the_example_clip_and_computes_every_figure():
    summary = reading_summary({"per_clip": ROWS}, "d")
    assert '"place gren wit a one again" (for "place green with a one again")' in summary
    assert "first word in 50% of test clips and in their last in 50%" in summary
    assert "letter right in 25% of test clips and the digit in 75%." in summary


def test_status_line_puts_the_reading_between_status_and_notes_and_does_without_metrics():
    state = {"status": "training in progress", "example_clip": "a", "notes": "See docs."}
    line = status_line(state, {"per_clip": ROWS})
    assert line.startswith('training in progress: test clips decode to misspelt strings such as "bin blu at fo now"')
    assert line.endswith("the digit in 75%. See docs.")
    assert status_line(state, None) == "training in progress. See docs."
    assert status_line({}, None) == "see history.csv for where training stands."
    with pytest.raises(KeyError):
        status_line({**state, "example_clip": "not-evaluated"}, {"per_clip": ROWS})


def test_schedule_description_names_a_warm_restart():
    recipe = {"learning_rate": 1e-4, "constant_epochs": 30, "decay_per_epoch": 0.1}
    assert schedule_description(recipe) == "Adam 0.0001, constant for 30 epochs then ×exp(−0.1) per epoch"
    restarted = {**recipe, "constant_epochs": 10, "schedule_start_epoch": 59}
    assert schedule_description(restarted) == (
        "Adam 0.0001, constant for 10 epochs from epoch 60 (the schedule restarted after epoch 59)"
        " then ×exp(−0.1) per epoch"
    )


def test_committed_model_card_is_what_the_writer_makes_of_the_committed_files(tmp_path):
    """The card must never drift from the weights' history, metrics and status: regenerate it and compare."""
    for name in ("recipe.json", "state.json", "split.json", "history.csv", "metrics.json", HEAD_RECIPE, HEAD_HISTORY):
        if (MODELS / name).exists() or name not in (HEAD_RECIPE, HEAD_HISTORY):
            shutil.copy(MODELS / name, tmp_path / name)
    write_model_card(tmp_path)
    assert (tmp_path / "MODEL_CARD.md").read_text() == (MODELS / "MODEL_CARD.md").read_text()


def test_the_weights_line_names_the_published_epoch_and_a_better_validation_loss_that_did_not_replace_it():
    history = [{"epoch": str(epoch), "val_loss": str(loss), "val_wer": "0.3", "val_cer": "0.15"}
               for epoch, loss in ((1, 12.0), (2, 11.2), (3, 11.5), (4, 11.0))]
    assert weights_line(history).startswith(
        "- **Weights**: `lipnet.weights.h5` (model variables only), from epoch 4 of 4"
    )
    assert weights_line(history).endswith("(val_loss 11.000, validation greedy WER 30.0%, CER 15.0%), the epoch with"
                                          " the lowest validation loss.")
    kept = weights_line(history, published_epoch=2)
    assert "from epoch 2 of 4 trained (val_loss 11.200," in kept
    assert kept.endswith("epoch 4, with a lower validation loss (11.000), did not replace it (see the notes).")


def test_the_head_line_describes_the_stage_and_the_epoch_it_kept():
    recipe = {"mixed_precision": True, "flip": True, "train_clips": 765, "learning_rate": 1e-4, "batch_size": 16,
              "feature_dropout": 0.3, "letter_weight": 3.0, "feature_seconds": 180.0}
    history = [{"epoch": str(epoch), "val_wer": wer, "val_cer": "0.12", "val_grid_wer": grid,
                "val_letter_accuracy": "0.3", "seconds": "30"}
               for epoch, wer, grid in ((1, "0.3", "0.2"), (2, "0.25", "0.19"), (3, "0.25", "0.18"), (4, "0.26", "0.1"))]
    line = head_line(recipe, history)
    assert "trained 4 epochs on the frozen convolutional features" in line
    assert "(computed once, in mixed bfloat16), on the 765 training clips, each also mirrored" in line
    assert "loss CTC + 3 × −log(the letter's mean probability over its aligned frames)" in line
    assert line.endswith("kept epoch 3, the lowest validation greedy WER (25.0%, CER 12.0%; grid-decoder WER 18.0%,"
                         " letter right in 30% of validation clips).")
    assert head_minutes(recipe, history) == 5.0
    training_history = [{"epoch": "1", "val_loss": "11.0", "val_wer": "0.3", "val_cer": "0.15"}]
    assert weights_line(training_history, head_retrained=True).startswith(
        "- **Weights**: `lipnet.weights.h5` (model variables only), the convolutions of epoch 1 of 1 trained")
