import json
import shutil
from pathlib import Path

import pytest

from lipnet_training.card import (
    head_line,
    head_minutes,
    metrics_lines,
    reading_summary,
    schedule_description,
    train_line,
    wall_time_line,
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
RECIPE = {"learning_rate": 1e-4, "constant_epochs": 30, "decay_per_epoch": 0.1, "batch_size": 2,
          "full_clip_fraction": 0.25, "flip": True}
HISTORY = [{"epoch": str(epoch), "val_loss": str(loss), "val_wer": "0.3", "val_cer": "0.15", "seconds": "1800"}
           for epoch, loss in ((1, 12.0), (2, 11.2), (3, 11.5), (4, 11.0))]
HEAD_RECIPE_JSON = {"mixed_precision": True, "flip": True, "train_clips": 765, "learning_rate": 1e-4,
                    "batch_size": 16, "feature_dropout": 0.3, "letter_weight": 3.0, "feature_seconds": 180.0}
HEAD_ROWS = [{"epoch": str(epoch), "val_wer": wer, "val_cer": "0.12", "val_grid_wer": grid,
              "val_letter_accuracy": "0.3", "seconds": "30"}
             for epoch, wer, grid in ((1, "0.3", "0.2"), (2, "0.25", "0.19"), (3, "0.25", "0.18"), (4, "0.26", "0.1"))]


def test_reading_summary_quotes_the_example_clip_and_computes_every_figure():
    summary = reading_summary({"per_clip": ROWS}, "d")
    assert 'reads "place gren wit a one again" for "place green with a one again"' in summary
    # grid readings: the letter right in 1 of 4 (c), the digit in 3 of 4 (b, c, d), every other word in 4 of 4
    assert "letter (the fourth word) right in 25% of test clips, the digit in 75% and each other word in at least" \
           " 100%." in summary
    wrong_colour = [{**ROWS[0], "grid": "bin red at e four now"}, *ROWS[1:]]
    assert summary.replace("100%.", "75%.") == reading_summary({"per_clip": wrong_colour}, "d")
    with pytest.raises(KeyError):
        reading_summary({"per_clip": ROWS}, "not-evaluated")


def test_metrics_lines_tabulate_each_decoder_and_say_what_was_measured():
    metrics = {"evaluated_on": "the 'test' clips of models/split.json", "clips": 90, "weights_sha256": "40feb47cf4",
               "decoders": {"grid": {"wer": 0.159, "cer": 0.063, "sentence_accuracy": 0.289},
                            "greedy": {"wer": 0.22, "cer": 0.092, "sentence_accuracy": 0.156}}}
    lines = metrics_lines(metrics)
    assert lines[0] == ("On the 'test' clips of models/split.json (90 clips), weights sha256 40feb47c…"
                        " (`metrics.json`):")
    assert lines[-2:] == ["| greedy | 22.0% | 9.2% | 15.6% |", "| GRID grammar | 15.9% | 6.3% | 28.9% |"]
    assert not any("beam" in line for line in lines)


def test_schedule_description_names_a_warm_restart():
    assert schedule_description(RECIPE) == "Adam 0.0001 for epochs 1–30, then ×exp(−0.1) per epoch"
    restarted = {**RECIPE, "constant_epochs": 5, "decay_per_epoch": 0.3, "schedule_start_epoch": 59}
    assert schedule_description(restarted) == (
        "Adam 0.0001 for epochs 60–64 (restarted after epoch 59), then ×exp(−0.3) per epoch"
    )


def test_the_train_line_names_the_kept_epoch_and_a_better_validation_loss_that_was_not_kept():
    line = train_line(RECIPE, HISTORY)
    assert "batch 2, windows around the words (25% whole clips), left-right flips;" in line
    assert line.endswith("kept epoch 4 of 4 (val_loss 11.000, validation greedy WER 30.0%), the lowest validation"
                         " loss.")
    kept = train_line({**RECIPE, "flip": False}, HISTORY, published_epoch=2)
    assert "flips" not in kept
    assert "kept epoch 2 of 4 (val_loss 11.200," in kept
    assert kept.endswith("epoch 4's lower val_loss (11.000) was not kept (see the log).")


def test_the_head_line_describes_the_stage_and_the_epoch_it_kept():
    line = head_line(HEAD_RECIPE_JSON, HEAD_ROWS)
    assert "retrained 4 epochs on stage 1's frozen convolutional features (765 clips, each also mirrored)" in line
    assert "dropout 0.3 on the features, loss CTC + 3 × a letter term" in line
    # epochs 2 and 3 tie on greedy WER; epoch 3 has the lower grid WER; epoch 4's better grid WER does not count
    assert line.endswith("kept epoch 3, the lowest validation greedy WER (25.0%; grid WER 18.0%, letter right in 30%).")
    assert head_minutes(HEAD_RECIPE_JSON, HEAD_ROWS) == 5.0


def test_the_wall_time_counts_both_stages_and_the_hours_to_a_kept_earlier_epoch():
    assert wall_time_line(HISTORY, None, None, []) == (
        "- **Wall time**: 2.0 h for stage 1's 4 epochs (validation included).")
    assert wall_time_line(HISTORY, 2, HEAD_RECIPE_JSON, HEAD_ROWS) == (
        "- **Wall time**: 2.0 h for stage 1's 4 epochs (validation included; 1.0 h to epoch 2), 5 min for stage 2.")


def test_a_run_of_train_alone_gets_a_card_without_the_head_or_test_metrics(tmp_path):
    """``model-card --out RUN`` right after ``train``: no head files, no metrics.json, no state.json."""
    (tmp_path / "recipe.json").write_text(json.dumps(RECIPE))
    (tmp_path / "split.json").write_text(json.dumps({"train": ["a", "b"], "validation": ["c"], "test": ["d"]}))
    fields = ("epoch", "loss", "val_loss", "val_wer", "val_cer", "val_sentence_accuracy", "lr", "seconds")
    (tmp_path / "history.csv").write_text(",".join(fields) + "\n1,20,12,0.5,0.3,0,0.0001,3600\n")
    card = write_model_card(tmp_path).read_text()
    assert "2 training clips, 1 validation clips (model selection), 1 test clips used for neither" in card
    assert "kept epoch 1 of 1 (val_loss 12.000" in card
    assert "Stage 2" not in card and "Known limits" not in card
    assert "Not evaluated yet" in card
    assert "- **Wall time**: 1.0 h for stage 1's 1 epochs (validation included)." in card


def test_committed_model_card_is_what_the_writer_makes_of_the_committed_files(tmp_path):
    """The card must never drift from the weights' history, metrics and status: regenerate it and compare."""
    for name in ("recipe.json", "state.json", "split.json", "history.csv", "metrics.json", HEAD_RECIPE, HEAD_HISTORY):
        shutil.copy(MODELS / name, tmp_path / name)
    for other in [*MODELS.glob("metrics_s*.json"), *MODELS.glob("adaptation_study.json")]:
        shutil.copy(other, tmp_path / other.name)
    write_model_card(tmp_path)
    assert (tmp_path / "MODEL_CARD.md").read_text() == (MODELS / "MODEL_CARD.md").read_text()


def test_the_committed_card_fits_one_screen_and_links_the_docs():
    card = (MODELS / "MODEL_CARD.md").read_text()
    assert len(card.splitlines()) <= 45
    assert max(len(line) for line in card.splitlines()) <= 360
    assert "](../docs/training.md)" in card and "](../docs/experiments.md)" in card
    for linked in ("training.md", "experiments.md"):
        assert (MODELS.parent / "docs" / linked).exists()
    state = json.loads((MODELS / "state.json").read_text())
    assert "notes" not in state, "the run's story goes to docs/experiments.md, not on the card"


def test_the_card_shows_other_speakers_and_the_adapted_figure(tmp_path):
    from lipnet_training.card import other_speakers_lines

    assert other_speakers_lines(tmp_path) == []
    (tmp_path / "metrics_s4.json").write_text(json.dumps({"clips": 30, "crop": "detected", "decoders": {
        name: {"wer": wer, "cer": 0.5, "sentence_accuracy": 0.0} for name, wer in (("greedy", 0.8), ("grid", 0.75))}}))
    (tmp_path / "adaptation_study.json").write_text(json.dumps({"what": "5-fold", "summary": "GRID-grammar WER 40%"}))
    lines = other_speakers_lines(tmp_path)
    assert "| 4 | 30 | 75.0% | 80.0% | 50.0% |" in lines
    assert any(line.startswith("After adaptation") and "5-fold" in line and "40%" in line for line in lines)
