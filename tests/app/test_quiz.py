"""Human vs machine through ``AppTest``: a round answered right, wrong and not at all, the scoreboard, the class view,
the seed, and the page without data or without the model's readings."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lipnet_core import paths
from lipnet_core.dataset import list_clips
from lipnet_core.demo.quiz import load_model_readings, quiz_clip, quiz_clip_ids
from lipnet_core.demo.views import held_out_ids
from lipnet_core.grid_sentences import GRID_GRAMMAR, GRID_SLOT_NAMES
from lipnet_core.metrics import grid_words_right

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "app_pages/quiz.py"
SLOT_KEYS = tuple(f"quiz_{name}" for name in GRID_SLOT_NAMES)
TIMEOUT = 180


def open_quiz(seed: int | None = None) -> AppTest:
    """Run app.py (it registers the pages), then switch to the quiz, with ``?seed=`` in the address when given."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if seed is not None:
        app.query_params["seed"] = str(seed)
    app.run()
    app.switch_page(PAGE)
    app.run()
    assert not app.exception, app.exception
    return app


def answer(app: AppTest, words) -> AppTest:
    for key, word in zip(SLOT_KEYS, words):
        if word is not None:
            app.selectbox(key=key).set_value(word)
    app.button(key="quiz_check").click().run()
    assert not app.exception, app.exception
    return app


def metrics(app: AppTest) -> dict:
    return {metric.label: metric.value for metric in app.metric}


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def expected_round(grid_dir, seed: int, round_index: int):
    """The clip, truth and model reading the page must show, from the same files by the pure functions."""
    readings = load_model_readings()
    available = [clip.clip_id for clip in list_clips(grid_dir)]
    clip_id = quiz_clip(quiz_clip_ids(readings, held_out_ids(paths.SPLIT_PATH), available), seed, round_index)
    return clip_id, readings[clip_id].truth, readings[clip_id].reading


def wrong_words(truth: str, how_many: int) -> list[str]:
    """The truth with its first ``how_many`` words swapped for another word of the same slot."""
    words = truth.split()
    for position in range(how_many):
        words[position] = next(word for word in GRID_GRAMMAR[position] if word != words[position])
    return words


@pytest.fixture
def with_grid(grid_dir, monkeypatch):
    if not paths.METRICS_PATH.is_file():
        pytest.skip("no models/metrics.json: the quiz has no model readings to race")
    monkeypatch.setenv("LIPNET_DATA_DIR", str(grid_dir))
    monkeypatch.delenv("LIPNET_WEIGHTS", raising=False)
    return grid_dir


def test_the_page_stays_up_without_a_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("LIPNET_DATA_DIR", str(tmp_path))
    app = open_quiz(seed=3)
    assert app.title[0].value == "Human vs machine"
    assert "No GRID data" in texts(app.info) and "download data" in texts(app.info)
    assert not app.selectbox and not app.get("video"), "no round without clips"
    assert metrics(app)["Rounds played"] == "0"


def test_the_page_says_when_the_model_readings_are_missing(with_grid, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "METRICS_PATH", tmp_path / "metrics.json")
    app = open_quiz(seed=3)
    assert "No model readings yet" in texts(app.info)
    assert not app.selectbox and not app.error


def test_the_round_trip_right_then_wrong_then_the_class_view(with_grid):
    app = open_quiz(seed=7)
    assert app.get("video"), "the clip plays"
    assert [box.value for box in app.selectbox if box.key in SLOT_KEYS] == [None] * 6, "every slot starts empty"
    clip_id, truth, model_reading = expected_round(with_grid, 7, 0)
    assert truth not in texts(app.markdown) and clip_id not in texts(app.markdown), "no answer before answering"
    model_score = sum(grid_words_right(truth, model_reading))

    answer(app, truth.split())
    board = metrics(app)
    assert board["You"] == "6 / 6 words" and board["LipNet"] == f"{model_score} / 6 words"
    assert f"They said: **{truth}** (clip `{clip_id}`)" in texts(app.markdown)
    assert f"LipNet read: **{model_reading}**" in texts(app.markdown)
    assert not app.selectbox, "an answered round cannot be answered again"
    assert "GRID-grammar decoder" in texts(app.caption)
    assert (board["Rounds played"], board["Your words right"]) == ("1", "6 / 6")
    assert board["LipNet's words right"] == f"{model_score} / 6"
    assert board["Your sentences right"] == "1"
    assert list(app.table[0].value["said"]) == truth.split()

    app.button(key="quiz_next").click().run()
    assert [box.value for box in app.selectbox if box.key in SLOT_KEYS] == [None] * 6, "a new round starts empty"
    second_clip, second_truth, second_reading = expected_round(with_grid, 7, 1)
    second_model_score = sum(grid_words_right(second_truth, second_reading))
    answer(app, wrong_words(second_truth, 2))
    board = metrics(app)
    assert board["You"] == "4 / 6 words"
    assert (board["Rounds played"], board["Your words right"]) == ("2", "10 / 12")
    assert board["LipNet's words right"] == f"{model_score + second_model_score} / 12"
    assert board["Your sentences right"] == "1"
    assert "✗" in "".join(app.table[0].value["you"])

    app.toggle(key="quiz_class_view").set_value(True).run()
    assert not app.exception, app.exception
    big = texts(app.markdown)
    assert "Game 7: 2 rounds played" in big
    assert "You: 10 of 12 words right, 1 whole sentence" in big
    assert f"LipNet: {model_score + second_model_score} of 12 words right" in big
    rounds = app.table[0].value
    assert list(rounds["clip"]) == [clip_id, second_clip]
    assert list(rounds["your answer"]) == [truth, " ".join(wrong_words(second_truth, 2))]
    assert list(rounds["you"]) == ["6 / 6", "4 / 6"]


def test_an_empty_or_partial_answer_is_not_scored(with_grid):
    app = open_quiz(seed=11)
    answer(app, [None] * 6)
    assert "Pick a word in every slot" in texts(app.warning)
    assert metrics(app)["Rounds played"] == "0" and "You" not in metrics(app)

    _, truth, _ = expected_round(with_grid, 11, 0)
    answer(app, truth.split()[:4] + [None, None])
    assert "digit, adverb are still empty" in texts(app.warning)
    assert metrics(app)["Rounds played"] == "0"
    assert [app.selectbox(key=key).value for key in SLOT_KEYS[:4]] == truth.split()[:4], "the picks are kept"


def test_a_seed_gives_the_same_clips_to_everyone(with_grid):
    shown = []
    for _ in range(2):  # two visitors of ?seed=5
        app = open_quiz(seed=5)
        assert app.number_input(key="quiz_seed_input").value == 5
        for round_index in range(2):
            _, truth, _ = expected_round(with_grid, 5, round_index)
            answer(app, truth.split())
            assert metrics(app)["You"] == "6 / 6 words", "the page showed the clip quiz_clip chose"
            shown.append(next(line for line in texts(app.markdown).splitlines() if line.startswith("They said")))
            app.button(key="quiz_next").click().run()
    assert shown[:2] == shown[2:] and shown[0] != shown[1]

    app.number_input(key="quiz_seed_input").set_value(6).run()
    assert app.query_params["seed"] == "6", "the address carries the new game number"
    assert metrics(app)["Rounds played"] == "0", "a new game number starts a new game"
    _, truth, _ = expected_round(with_grid, 6, 0)
    answer(app, truth.split())
    assert metrics(app)["You"] == "6 / 6 words"


def test_a_broken_metrics_file_is_an_error_not_a_crash(with_grid, tmp_path, monkeypatch):
    broken = tmp_path / "metrics.json"
    broken.write_text(json.dumps({"per_clip": "nothing"})[:-3])
    monkeypatch.setattr(paths, "METRICS_PATH", broken)
    app = open_quiz(seed=3)
    assert "Cannot read the evaluation results" in texts(app.error)
