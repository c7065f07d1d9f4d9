"""Human vs machine without Streamlit: which clip each round shows, the model's measured readings, and the scores."""

import json
import subprocess

import pytest

from lipnet_core.dataset import load_split
from lipnet_core.demo.quiz import (
    MODEL_DECODER,
    MeasuredReading,
    Totals,
    class_view_lines,
    incomplete_answer_message,
    load_model_readings,
    missing_slots,
    quiz_clip,
    quiz_clip_ids,
    rounds_table,
    score_round,
    seed_from_text,
    silent_video,
    totals,
    verdict,
    word_table,
)
from lipnet_core.errors import ClipError, LipNetError
from lipnet_core.grid_sentences import GRID_SLOT_NAMES
from lipnet_core.paths import METRICS_PATH, SPLIT_PATH
from lipnet_core.video import ffmpeg_executable

TRUTH = "bin blue at f two now"
CLIPS = [f"clip{number:02d}" for number in range(12)]


def test_a_round_of_a_seed_is_always_the_same_clip_whatever_the_order_of_the_list():
    rounds = [quiz_clip(CLIPS, 7, index) for index in range(30)]
    assert rounds == [quiz_clip(list(reversed(CLIPS)), 7, index) for index in range(30)]
    assert quiz_clip(CLIPS, 7, 3) == rounds[3]


def test_each_pass_shows_every_clip_once_and_seeds_give_different_orders():
    first_pass = [quiz_clip(CLIPS, 7, index) for index in range(len(CLIPS))]
    second_pass = [quiz_clip(CLIPS, 7, index) for index in range(len(CLIPS), 2 * len(CLIPS))]
    assert sorted(first_pass) == sorted(second_pass) == CLIPS
    assert first_pass != CLIPS, "the order is shuffled"
    assert first_pass != [quiz_clip(CLIPS, 8, index) for index in range(len(CLIPS))]


def test_quiz_clip_refuses_an_empty_list_and_a_negative_round():
    with pytest.raises(ValueError, match="no clip"):
        quiz_clip([], 1, 0)
    with pytest.raises(ValueError, match="round_index"):
        quiz_clip(CLIPS, 1, -1)


def test_quiz_clips_are_held_out_read_and_present():
    readings = {clip_id: MeasuredReading(TRUTH, TRUTH) for clip_id in "abc"}
    assert quiz_clip_ids(readings, held_out={"c", "b", "x"}, available={"b", "c", "a"}) == ["b", "c"]
    assert quiz_clip_ids({}, {"a"}, {"a"}) == []


def test_the_true_words_score_six_and_the_model_is_scored_the_same_way():
    result = score_round(1, "bbaf2n", TRUTH, TRUTH.split(), "bin blue at two now")
    assert (result.your_score, result.model_score) == (6, 5)
    assert result.model_right == (True, True, True, False, True, True), "a dropped letter costs the letter only"
    assert result.answer == TRUTH
    assert verdict(result) == "You beat the model this round."


def test_wrong_words_cost_one_each():
    picks = ["lay", "blue", "at", "f", "nine", "now"]
    result = score_round(2, "bbaf2n", TRUTH, picks, TRUTH)
    assert (result.your_score, result.model_score) == (4, 6)
    assert result.your_right == (False, True, True, True, False, True)
    assert verdict(result) == "The model wins this round."
    assert verdict(score_round(3, "bbaf2n", TRUTH, picks, "lay blue at f nine now")) == "A draw this round."


def test_an_incomplete_answer_is_never_scored():
    assert missing_slots([None] * 6) == list(GRID_SLOT_NAMES)
    assert missing_slots(["bin", "blue", None, "f", "", "now"]) == ["preposition", "digit"]
    with pytest.raises(ValueError, match="Pick a word in every slot.*preposition, digit are still empty"):
        score_round(1, "bbaf2n", TRUTH, ["bin", "blue", None, "f", None, "now"], TRUTH)
    assert "letter is still empty" in incomplete_answer_message(["letter"])
    with pytest.raises(ValueError, match="not a GRID colour"):
        score_round(1, "bbaf2n", TRUTH, ["bin", "bin", "at", "f", "two", "now"], TRUTH)
    with pytest.raises(ValueError, match="6 picks"):
        missing_slots(["bin"])


def test_word_table_marks_each_pick_against_the_truth():
    result = score_round(1, "bbaf2n", TRUTH, ["bin", "red", "at", "f", "two", "now"], "bin blue at two now")
    table = word_table(result)
    assert list(table["word"]) == list(GRID_SLOT_NAMES)
    assert list(table["said"]) == TRUTH.split()
    assert table.loc[1, "you"] == "✗ red" and table.loc[0, "you"] == "✓ bin"
    assert list(table["model"]) == ["✓ bin", "✓ blue", "✓ at", "✗", "✓ two", "✓ now"], "no word shifts slot"
    grammatical = word_table(score_round(1, "bbaf2n", TRUTH, TRUTH.split(), "bin blue at e two soon"))
    assert list(grammatical["model"]) == ["✓ bin", "✓ blue", "✓ at", "✗ e", "✓ two", "✗ soon"]


def test_totals_and_the_rounds_table_add_up_the_session():
    first = score_round(1, "bbaf2n", TRUTH, TRUTH.split(), TRUTH)
    second = score_round(2, "bbaf2n", TRUTH, ["lay", "blue", "at", "f", "nine", "now"], "bin blue at f two soon")
    board = totals([first, second])
    assert (board.rounds, board.words_possible) == (2, 12)
    assert (board.your_words, board.model_words) == (10, 11)
    assert (board.your_sentences, board.model_sentences) == (1, 1)
    assert totals([]).words_possible == 0
    table = rounds_table([first, second])
    assert list(table["round"]) == [1, 2]
    assert list(table["you"]) == ["6 / 6", "4 / 6"] and list(table["model"]) == ["6 / 6", "5 / 6"]
    assert table.loc[1, "your answer"] == "lay blue at f nine now"
    assert rounds_table([]).empty


def test_class_view_lines_say_the_totals_in_plain_words():
    lines = class_view_lines(7, Totals(rounds=1, your_words=5, model_words=6, your_sentences=0, model_sentences=1))
    assert lines == ["## Game 7: 1 round played", "# You: 5 of 6 words right, 0 whole sentences",
                     "# LipNet: 6 of 6 words right, 1 whole sentence"]


def test_seed_from_text_takes_whole_numbers_in_range_only():
    assert seed_from_text("7") == 7 and seed_from_text(" 42 ") == 42 and seed_from_text("0") == 0
    for text in (None, "", "seven", "-1", "1.5", "1000000"):
        assert seed_from_text(text) is None, text


def test_model_readings_come_from_per_clip_and_skip_unusable_rows(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"per_clip": [
        {"clip": "bbaf2n", "truth": TRUTH, "greedy": "bin blu at f two now", "grid": "bin blue at e two now"},
        {"clip": "nogrid", "truth": TRUTH, "greedy": TRUTH},
        {"clip": "badtruth", "truth": "hello there", "grid": TRUTH},
        "not a row",
    ]}))
    assert load_model_readings(path) == {"bbaf2n": MeasuredReading(TRUTH, "bin blue at e two now")}
    assert load_model_readings(path, decoder="greedy")["bbaf2n"].reading == "bin blu at f two now"
    assert load_model_readings(tmp_path / "absent.json") is None
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(LipNetError, match="Cannot read"):
        load_model_readings(tmp_path / "broken.json")
    (tmp_path / "old.json").write_text(json.dumps({"decoders": {"grid": {"wer": 0.1}}}))
    assert load_model_readings(tmp_path / "old.json") == {}


def test_the_committed_readings_cover_the_held_out_clips():
    if not METRICS_PATH.is_file():
        pytest.skip("no models/metrics.json committed")
    readings = load_model_readings()
    held_out = set(load_split(SPLIT_PATH)["test"])
    assert set(readings) == held_out
    assert MODEL_DECODER == "grid"


def _clip_with_sound(path):
    command = [ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
               "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return path


def streams(path) -> str:
    described = subprocess.run([ffmpeg_executable(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    return described.stderr


def test_silent_video_keeps_the_picture_and_drops_the_sound(tmp_path):
    source = _clip_with_sound(tmp_path / "with_sound.mp4")
    assert "Audio:" in streams(source)
    silent = tmp_path / "silent.mp4"
    silent.write_bytes(silent_video(source.read_bytes()))
    described = streams(silent)
    assert "Video: h264" in described and "Audio:" not in described
    with pytest.raises(ClipError, match="not a readable MP4"):
        silent_video(b"this is not a video" * 10)
