"""Training history, evaluation results, published figures, and one clip's scores as tables."""

import json

import numpy as np
import pytest

from lipnet_core.decoding import Decoded
from lipnet_core.demo.results import (
    comparison_table,
    footnote_sources,
    load_evaluation,
    load_history,
    load_published_results,
    slot_accuracy,
)
from lipnet_core.demo.tables import clip_scores, probability_table
from lipnet_core.errors import LipNetError


def test_missing_files_give_none(tmp_path):
    assert load_history(tmp_path / "history.csv") is None
    assert load_evaluation(tmp_path / "metrics.json") is None


def test_history_is_indexed_by_epoch_and_sorted(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,val_loss,lr\n2,50.5,60.0,0.0001\n1,80.0,90.0,0.0001\n")
    history = load_history(path)
    assert list(history.index) == [1, 2]
    assert history.loc[2, "val_loss"] == 60.0
    empty = tmp_path / "empty.csv"
    empty.write_text("epoch,loss\n")
    assert load_history(empty) is None


def test_evaluation_reads_the_documented_shape(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({
        "decoders": {"greedy": {"wer": 0.2, "cer": 0.1, "sentence_accuracy": 0.5},
                     "grid": {"wer": 0.05, "cer": "n/a"}},
        "clips": 90, "split": "test", "weights": "models/lipnet.weights.h5", "date": "2025-11-21",
    }))
    evaluation = load_evaluation(path)
    assert list(evaluation.scores.index) == ["greedy", "grid"]
    assert evaluation.scores.loc["greedy", "sentence_accuracy"] == 0.5
    assert np.isnan(evaluation.scores.loc["grid", "cer"])
    assert np.isnan(evaluation.scores.loc["grid", "sentence_accuracy"])
    assert evaluation.measured_on() == (
        "Measured on the 'test' clips (90 clips) of GRID speaker 1, weights models/lipnet.weights.h5, on 2025-11-21."
    )


def test_evaluation_reads_what_the_evaluate_command_writes(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({
        "evaluated_on": "the 'test' clips of models/split.json", "clips": 90,
        "decoders": {name: {"wer": 0.1, "cer": 0.04, "sentence_accuracy": 0.6} for name in ("greedy", "beam", "grid")},
        "weights": "models/lipnet.weights.h5", "weights_sha256": "ab12", "trained_weights": True, "crop": "grid",
        "date": "2025-11-22", "per_clip": [{"clip": "bbie8n", "truth": "bin blue in e eight now"}],
    }))
    evaluation = load_evaluation(path)
    assert list(evaluation.scores.index) == ["greedy", "beam", "grid"]
    assert evaluation.trained_weights is True
    assert evaluation.measured_on().startswith("Measured on the 'test' clips of models/split.json (90 clips)")


def test_slot_accuracy_counts_each_grid_word_per_decoder_over_grid_clips(tmp_path):
    per_clip = [
        {"clip": "bbaf2n", "truth": "bin blue at f two now", "greedy": "bin blue at two now",
         "grid": "bin blue at f two now"},
        {"clip": "bgaa7s", "truth": "bin green at a seven soon", "greedy": "bin green at seven soon",
         "grid": "bin green at e seven soon"},
        {"clip": "upload", "truth": "hello there", "greedy": "hello", "grid": "bin blue at a one now"},
    ]
    table = slot_accuracy(per_clip)
    assert list(table.index) == ["command", "colour", "preposition", "letter", "digit", "adverb"]
    assert list(table.columns) == ["greedy", "grid"]
    assert list(table["greedy"]) == [1, 1, 1, 0, 1, 1], "the dropped letter costs the letter, not the words after it"
    assert list(table["grid"]) == [1, 1, 1, 0.5, 1, 1]
    assert slot_accuracy([{"clip": "x", "truth": "bin blue at f two now"}]) is None
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"decoders": {"grid": {"wer": 0.1}}, "per_clip": per_clip}))
    hardest = load_evaluation(path).hardest_slot()
    assert (hardest.slot, hardest.decoder, hardest.share) == ("letter", "grid", 0.5)


def test_evaluation_tolerates_a_flat_document_and_rejects_garbage(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"beam": {"wer": 0.3, "cer": 0.2}}))
    evaluation = load_evaluation(path)
    assert evaluation.scores.loc["beam", "wer"] == 0.3 and evaluation.clips is None
    assert "unstated" in evaluation.measured_on()
    path.write_text(json.dumps({"note": "nothing yet"}))
    assert load_evaluation(path) is None
    path.write_text("{not json")
    with pytest.raises(LipNetError, match="Cannot read"):
        load_evaluation(path)


def test_published_results_hold_the_lipnet_paper_figures():
    published = load_published_results()
    paper = published[published["system"] == "LipNet (paper)"].set_index("setting")
    overlapped = paper[paper.index.str.contains("overlapped")].iloc[0]
    unseen = paper[paper.index.str.contains("unseen")].iloc[0]
    assert (overlapped.cer, overlapped.wer) == (0.019, 0.048)
    assert (unseen.cer, unseen.wer) == (0.064, 0.114)
    assert published["source"].str.len().gt(10).all(), "every figure names its source"
    assert published[["cer", "wer"]].lt(1).all().all(), "rates are fractions"


def test_comparison_puts_ours_beside_published_with_sources(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"decoders": {"greedy": {"wer": 0.25, "cer": 0.125}}, "clips": 90, "split": "test"}))
    table = comparison_table(load_published_results(), load_evaluation(path))
    ours = table[table["figures"] == "ours"].iloc[0]
    assert (ours["WER %"], ours["CER %"]) == (25.0, 12.5)
    assert "speaker 1" in ours["setting"]
    numbered, sources = footnote_sources(table)
    assert numbered["source"].str.fullmatch(r"\[\d+\]").all()
    assert sources[int(numbered.iloc[-1]["source"].strip("[]")) - 1].startswith("Measured on the 'test' clips (90")
    assert comparison_table(load_published_results(), None)["figures"].eq("published").all()


def test_clip_scores_per_decoder():
    decodings = {
        "greedy": Decoded("greedy", "bin blue at f two now", (2, 9), -1.0),
        "grid": Decoded("grid", "bin blue at f two soon", (2, 9), -2.0),
    }
    scores = clip_scores("bin blue at f two now", decodings).set_index("decoder")
    assert scores.loc["greedy", "WER"] == 0 and scores.loc["greedy", "CER"] == 0
    assert scores.loc["grid", "WER"] == pytest.approx(1 / 6)
    assert scores.loc["grid", "token ids"] == "2 9"
    assert "WER" not in clip_scores(None, decodings).columns


def test_probability_table_is_long_and_ordered():
    probabilities = np.array([[0.1, 0.9], [0.7, 0.3], [0.5, 0.5]], dtype=np.float32)
    table = probability_table(probabilities, ["a", "blank"])
    assert len(table) == 6
    assert table.query("frame == 1 and `class` == 'a'")["probability"].item() == pytest.approx(0.7)
    assert list(table["order"][:2]) == [0, 1]
    with pytest.raises(ValueError):
        probability_table(probabilities, ["a"])


def test_model_overview_counts_parameters_from_the_model():
    from lipnet_core.demo.tables import model_overview
    from lipnet_core.model import REFERENCE_PARAMETER_COUNT, build_model, layer_table

    model = build_model(75)
    overview = model_overview(model, layer_table(model))
    assert overview.trainable_parameters == overview.total_parameters == REFERENCE_PARAMETER_COUNT
    assert overview.layers["parameters"].sum() == REFERENCE_PARAMETER_COUNT
    assert overview.input_shape == (None, 75, 46, 140, 1) and overview.output_shape == (None, 75, 41)


def test_unseen_speakers_table_reads_each_speakers_metrics(tmp_path):
    from lipnet_core.demo.results import load_adaptation_study, unseen_speakers

    assert unseen_speakers(tmp_path) is None and load_adaptation_study(tmp_path / "absent.json") is None
    for speaker, wer in (("s4", 0.756), ("s26", 0.783)):
        (tmp_path / f"metrics_{speaker}.json").write_text(json.dumps({
            "clips": 10, "crop": "detected", "speakers": [speaker], "evaluated_on": f"every clip of {speaker}",
            "decoders": {"greedy": {"wer": 0.9, "cer": 0.6, "sentence_accuracy": 0}, "grid": {"wer": wer, "cer": 0.5,
                                                                                                "sentence_accuracy": 0}}}))
    (tmp_path / "metrics.json").write_text("{}")  # speaker 1's file is not another speaker
    table = unseen_speakers(tmp_path)
    assert table["speaker"].tolist() == ["4", "26"]  # by speaker number, not as text
    assert table["grid WER"].tolist() == [0.756, 0.783] and table["crop"].tolist() == ["detected", "detected"]
    from lipnet_core.demo.results import load_evaluation

    assert load_evaluation(tmp_path / "metrics_s26.json").measured_on().startswith(
        "Measured on every clip of s26 (10 clips) of GRID speaker 26, detected crop")


def test_letters_are_paired_counted_in_mouth_shape_order_and_summarised():
    from lipnet_core.demo.letters import (
        LETTERS_BY_GROUP,
        NO_LETTER,
        confusion_summary,
        letter_confusion,
        letter_pairs,
    )

    assert sorted(LETTERS_BY_GROUP) == sorted("abcdefghijklmnopqrstuvxyz"), "the 25 GRID letters (no w), once each"
    per_clip = [
        {"truth": "bin blue at b one soon", "grid": "bin blue at p one soon"},  # same group: lips closed
        {"truth": "bin blue at f two now", "grid": "bin blue at s two now"},  # across groups
        {"truth": "bin blue at a two now", "grid": "bin blue at two now"},  # no letter read
        {"truth": "lay red in d four please", "grid": "lay red in d four please"},
        {"truth": "not a grid sentence", "grid": "bin blue at a two now"},  # ignored
    ]
    pairs = letter_pairs(per_clip, "grid")
    assert pairs == [("b", "p"), ("f", "s"), ("a", NO_LETTER), ("d", "d")]
    confusion = letter_confusion(pairs)
    assert list(confusion.index[:3]) == ["b", "p", "m"] and confusion.columns[-1] == NO_LETTER
    assert confusion.to_numpy().sum() == 4 and confusion.loc["b", "p"] == 1 and confusion.loc["a", NO_LETTER] == 1
    assert confusion_summary(pairs) == {"letters": 4, "right": 1, "wrong": 3, "same_group": 1, "share_right": 0.25}


def test_the_adaptation_minutes_name_each_size_and_the_machine_they_were_measured_on():
    from lipnet_core.demo.results import adaptation_minutes

    rows = [{"clips": 24, "adapt_seconds_mean": 396.0}, {"clips": 5, "adapt_seconds_mean": 114.0},
            {"clips": 10, "adapt_seconds_mean": 186.0}]
    assert adaptation_minutes(rows, "2-core AMD EPYC without AVX-512") == (
        "An adaptation took 1.9 minutes with 5 sentences, 3.1 with 10 and 6.6 with 24 on a 2-core AMD EPYC without "
        "AVX-512 (features and training).")
    assert adaptation_minutes(rows[:1], None) == (
        "An adaptation took 6.6 minutes with 24 sentences on this project's 2-core CPU (features and training).")
