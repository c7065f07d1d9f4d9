"""The head retraining stage: its letter targets and loss, and a smoke run on tiny synthetic clips."""

import json

import numpy as np
import pytest

from lipnet_core.head_features import HEAD_LAYERS
from lipnet_core.losses import MAX_LABEL_LENGTH, ctc_and_letter_loss, ctc_loss, letter_loss, padded_labels
from lipnet_core.model import build_model
from lipnet_core.vocabulary import text_to_ids
from lipnet_core.weights import load_weights
from lipnet_training.cli import main
from lipnet_training.head import (
    HEAD_WEIGHTS,
    HeadRecipe,
    head_targets,
    letter_targets,
    retrain_head,
)
from lipnet_training.history import HEAD_HISTORY, HEAD_RECIPE, read_history, selection_key
from lipnet_training.pack import PackedClip

pytestmark = pytest.mark.slow  # builds and trains networks

SPANS = ((2, 8), (7, 14), (14, 18), (18, 24), (24, 31), (31, 38))  # the colour overlaps the command by a frame


def six_word_clip(clip_id, sentence, num_frames=40, seed=0):
    frames = np.random.default_rng(seed).integers(0, 255, (num_frames, 46, 140), dtype=np.uint8)
    return PackedClip(clip_id, frames, sentence, 2, 38, SPANS)


def test_letter_targets_are_the_fourth_words_frames_and_character():
    rows = letter_targets([six_word_clip("a", "bin blue at f two now"), six_word_clip("b", "set red by z nine again")])
    assert rows.dtype == np.int32
    assert rows.tolist() == [[18, 24, text_to_ids("f")[0]], [18, 24, text_to_ids("z")[0]]]
    targets = head_targets([six_word_clip("a", "bin blue at f two now")])
    assert targets.shape == (1, MAX_LABEL_LENGTH + 3)
    assert targets[0, :MAX_LABEL_LENGTH].tolist() == padded_labels(["bin blue at f two now"])[0].tolist()


def test_letter_targets_refuse_a_clip_that_is_not_a_six_word_grid_sentence():
    with pytest.raises(ValueError, match="six-word"):
        letter_targets([PackedClip("a", np.zeros((40, 46, 140), np.uint8), "bin red", 5, 30)])


def test_letter_loss_is_minus_log_the_letters_mean_probability_over_its_frames():
    probabilities = np.random.default_rng(1).dirichlet(np.ones(41), size=(2, 12)).astype(np.float32)
    rows = np.array([[3, 7, 6], [0, 2, 26]], dtype=np.int32)
    expected = [-np.log(probabilities[0, 3:7, 6].mean()), -np.log(probabilities[1, 0:2, 26].mean())]
    assert np.asarray(letter_loss(rows, probabilities)) == pytest.approx(expected, rel=1e-5)
    certain = np.zeros_like(probabilities)
    certain[:, :, 6] = 1.0
    assert np.asarray(letter_loss(rows[:1], certain[:1])) == pytest.approx([0.0], abs=1e-6)


def test_the_head_loss_is_ctc_plus_the_weighted_letter_term():
    clips = [six_word_clip("a", "bin blue at f two now")]
    probabilities = np.random.default_rng(2).dirichlet(np.ones(41), size=(1, 40)).astype(np.float32)
    targets = head_targets(clips)
    ctc = np.asarray(ctc_loss(targets[:, :MAX_LABEL_LENGTH], probabilities))
    letter = np.asarray(letter_loss(targets[:, MAX_LABEL_LENGTH:], probabilities))
    assert np.asarray(ctc_and_letter_loss(0.0)(targets, probabilities)) == pytest.approx(ctc, rel=1e-5)
    assert np.asarray(ctc_and_letter_loss(3.0)(targets, probabilities)) == pytest.approx(ctc + 3 * letter, rel=1e-5)


def test_retrain_head_trains_only_the_head_and_keeps_the_best_validation_epoch(tmp_path):
    sentences = ["bin blue at f two now", "set red by z nine again", "lay green in a one soon"]
    pack = {f"c{i}": six_word_clip(f"c{i}", sentence, seed=i) for i, sentence in enumerate(sentences)}
    split = {"train": ["c0", "c1"], "validation": ["c2"], "test": []}
    start_weights = tmp_path / "start.weights.h5"
    start = build_model(None)
    start.save_weights(start_weights)
    recipe = HeadRecipe(epochs=3, learning_rate=1e-3, batch_size=2, letter_weight=3.0, mixed_precision=False)
    lines = []
    kept = retrain_head(pack, split, start_weights, tmp_path / "out", recipe, log=lines.append)

    history = read_history(tmp_path / "out" / HEAD_HISTORY)
    assert [int(row["epoch"]) for row in history] == [1, 2, 3]
    assert float(history[-1]["loss"]) < float(history[0]["loss"])
    assert kept["epoch"] == int(min(history, key=selection_key)["epoch"])
    saved_recipe = json.loads((tmp_path / "out" / HEAD_RECIPE).read_text())
    assert saved_recipe["letter_weight"] == 3.0 and saved_recipe["start_weights"] == str(start_weights)
    assert f"epoch {kept['epoch']} of 3" in lines[-1]

    retrained = build_model(None)
    load_weights(retrained, tmp_path / "out" / HEAD_WEIGHTS)
    for layer, start_layer in zip(retrained.layers, start.layers):
        same = all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), start_layer.get_weights()))
        assert same == (layer.name not in HEAD_LAYERS or not layer.get_weights()), layer.name


def test_the_retrain_head_command_passes_its_options_as_the_recipe(tmp_path, monkeypatch):
    from lipnet_training import fit, head

    calls = {}
    monkeypatch.setattr(fit, "load_pack", lambda data_directory, pack_path, log, speaker: {"pack": str(pack_path)})
    monkeypatch.setattr(head, "retrain_head", lambda pack, split, weights, out, recipe, log: calls.update(
        pack=pack, weights=weights, out=out, recipe=recipe))
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": [], "validation": [], "test": []}))
    arguments = ["retrain-head", "--data-dir", str(tmp_path), "--split", str(split), "--out", str(tmp_path / "o"),
                 "--weights", "w.h5", "--letter-weight", "0", "--epochs", "4", "--no-flip"]
    assert main(arguments) == 0
    assert calls["recipe"] == HeadRecipe(epochs=4, letter_weight=0.0, flip=False)
    assert calls["pack"] == {"pack": str(tmp_path / "o" / "cache" / "training_pack.npz")}
    assert calls["weights"] == "w.h5"
