"""Streamlit's after-run clean-up made cheap: no Keras session cleared after each script run, and the long-lived
objects frozen out of the collection that follows it (widgets/script_runs.py)."""

import gc
import importlib
import weakref

import keras
import pytest
from streamlit.runtime.scriptrunner import script_runner


@pytest.fixture
def script_runs(repo_root, monkeypatch):
    monkeypatch.syspath_prepend(str(repo_root))  # where streamlit run app.py finds widgets/
    return importlib.import_module("widgets.script_runs")


def test_after_a_run_the_keras_session_is_left_alone(script_runs, monkeypatch):
    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *args, **kwargs: cleared.append(True))
    monkeypatch.setattr(script_runner, "_clean_problem_modules", script_runner._clean_problem_modules)
    script_runs.keep_keras_session_between_runs()
    script_runs.keep_keras_session_between_runs()  # as app.py does on every run

    script_runner._clean_problem_modules()

    assert cleared == []


def test_objects_alive_when_frozen_are_out_of_the_collectors_sight(script_runs):
    long_lived = [object() for _ in range(1000)]
    script_runs.freeze_long_lived_objects()

    assert gc.get_freeze_count() >= len(long_lived)
    assert not any(thing is long_lived for thing in gc.get_objects())


def test_the_app_applies_it(repo_root):
    assert "keep_keras_session_between_runs()" in (repo_root / "app.py").read_text()
    assert "freeze_long_lived_objects()" in (repo_root / "widgets" / "resources.py").read_text()


def test_garbage_frozen_with_the_long_lived_objects_is_collected_when_asked(script_runs):
    class SessionThing:
        pass

    thing = SessionThing()
    thing.cycle = thing  # a session's state is full of reference cycles
    alive = weakref.ref(thing)
    script_runs.freeze_long_lived_objects()
    del thing
    gc.collect()
    frozen_through_a_collection = alive() is not None

    script_runs.collect_frozen_garbage()

    assert frozen_through_a_collection and alive() is None
