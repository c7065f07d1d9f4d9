"""Teach it your face without a browser: the adaptation queue, session workspaces, recordings, the page (AppTest)."""

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lipnet_core.adaptation import AdaptationClip
from lipnet_core.demo.job_queue import JobQueue
from lipnet_core.demo.recordings import recording_suffix, save_recording
from lipnet_core.demo.teach import TeachSession, sentences_to_say
from lipnet_core.demo.workspaces import SessionWorkspace, remove_stale_workspaces
from lipnet_core.errors import ClipError, LipNetError
from lipnet_core.grid_sentences import is_grid_sentence
from lipnet_core.video import ffmpeg_executable, read_clip

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "app_pages/teach_your_face.py"


def wait_for(job, seconds=120.0):
    deadline = time.monotonic() + seconds
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.finished, job.state


def test_the_queue_runs_one_job_at_a_time_in_order_and_says_each_place():
    queue, running, order, release = JobQueue(), [], [], threading.Event()

    def work(name):
        def run(progress):
            running.append(name)
            assert len(running) == 1, "two jobs at once"
            progress(0.5, f"{name} half way")
            release.wait(10)
            order.append(name)
            running.remove(name)
            return name
        return run

    first, second, third = (queue.submit(work(name)) for name in ("first", "second", "third"))
    deadline = time.monotonic() + 10
    while first.state != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (queue.position(first), queue.position(second), queue.position(third)) == (0, 1, 2)
    assert first.fraction == 0.5 and first.message == "first half way"
    assert queue.cancel(third) and third.state == "failed"
    release.set()
    wait_for(second)
    assert order == ["first", "second"] and (first.result, second.result) == ("first", "second")


def test_the_wait_estimate_is_the_jobs_ahead_times_a_typical_job():
    queue, release = JobQueue(what="reading"), threading.Event()
    assert queue.typical_seconds() is None
    wait_for(queue.submit(lambda progress: time.sleep(0.2)))
    assert 0.2 <= queue.typical_seconds() < 2
    blocking = queue.submit(lambda progress: release.wait(10))
    waiting = queue.submit(lambda progress: None)
    deadline = time.monotonic() + 10
    while blocking.state != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert queue.wait_estimate(waiting) == pytest.approx(queue.typical_seconds())
    release.set()
    wait_for(waiting)
    crashed = queue.submit(lambda progress: 1 / 0)
    wait_for(crashed)
    assert crashed.error.startswith("The reading failed unexpectedly (ZeroDivisionError")


def test_a_failing_job_says_why_and_the_queue_goes_on():
    queue = JobQueue()

    def refuse(progress):
        raise LipNetError("Adaptation needs at least 3 clips of the new speaker; it got 1.")

    def crash(progress):
        raise RuntimeError("out of memory")

    refused, crashed, fine = queue.submit(refuse), queue.submit(crash), queue.submit(lambda progress: 42)
    wait_for(fine)
    assert refused.state == "failed" and refused.error.startswith("Adaptation needs at least 3")
    assert crashed.state == "failed" and "RuntimeError: out of memory" in crashed.error
    assert fine.state == "done" and fine.result == 42


def test_a_workspace_is_private_named_by_the_program_and_removed(tmp_path):
    workspace = SessionWorkspace(root=tmp_path)
    assert workspace.path.parent == tmp_path and oct(workspace.path.stat().st_mode)[-3:] == "700"
    workspace.file("sentence_01.mp4").write_bytes(b"x")
    for bad in ("../escape", "a/b", ".hidden", "", "name with space"):
        with pytest.raises(ValueError):
            workspace.file(bad)
    path = workspace.path
    del workspace  # the session ended: its files go with it
    assert not path.exists()


def test_stale_workspaces_are_swept(tmp_path):
    old, new = SessionWorkspace(root=tmp_path), SessionWorkspace(root=tmp_path)
    os.utime(old.path, (time.time() - 7200, time.time() - 7200))
    assert remove_stale_workspaces(tmp_path, max_age_seconds=3600) == 1
    assert not old.path.exists() and new.path.exists()


def test_sentences_to_say_follow_the_grammar_and_cover_many_letters():
    sentences = sentences_to_say(seed=3, count=10)
    assert len(set(sentences)) == 10 and all(is_grid_sentence(sentence) for sentence in sentences)
    assert len({sentence.split()[3] for sentence in sentences}) == 10
    assert sentences_to_say(seed=3, count=10) == sentences


def test_a_browser_recording_becomes_a_25_fps_clip(tmp_path, pattern_frames, clip_writer):
    """A VP8 WebM at 30 fps, as MediaRecorder writes, is resampled by its timestamps to 25 fps."""
    import subprocess

    raw = clip_writer(tmp_path / "raw.avi", pattern_frames(90, 240, 320), fps=30.0, fourcc="MJPG")
    webm = tmp_path / "take.webm"
    subprocess.run([ffmpeg_executable(), "-loglevel", "error", "-i", str(raw), "-c:v", "libvpx", "-b:v", "1M",
                    str(webm)], check=True, timeout=120)
    clip = read_clip(save_recording(webm.read_bytes(), "video/webm;codecs=vp8", tmp_path / "take.mp4"))
    assert clip.source_fps == pytest.approx(25.0) and abs(clip.num_frames - 75) <= 1
    assert recording_suffix("video/mp4") == ".mp4"
    with pytest.raises(ClipError, match="cannot be read"):
        recording_suffix("audio/ogg")
    with pytest.raises(ClipError, match="empty"):
        save_recording(b"", "video/webm", tmp_path / "empty.mp4")
    with pytest.raises(ClipError, match="could not be read"):
        save_recording(b"not a video at all" * 10, "video/webm", tmp_path / "bad.mp4")


def tiny_session(count=3) -> TeachSession:
    session = TeachSession.start(seed=1, count=4)
    rng = np.random.default_rng(0)
    for index in range(count):
        session.clips[index] = AdaptationClip(f"sentence {index + 1}", session.sentences[index],
                                              rng.integers(0, 255, (40, 46, 140), dtype=np.uint8))
    return session


def open_teach_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180)
    app.run()
    app.switch_page(PAGE)
    app.run()
    assert not app.exception, app.exception
    return app


def test_the_page_asks_for_recordings_before_it_adapts(monkeypatch):
    monkeypatch.setenv("LIPNET_ADAPT_EPOCHS", "1")
    app = open_teach_page()
    assert app.title[0].value == "Teach it your face"
    expected = "24 sentences, 42%, 27 sentences, 43%"  # the committed models/adaptation_study.json
    assert any(caption.value.startswith("What to expect, measured on GRID speaker 4") and expected in caption.value
               for caption in app.caption), app.caption
    assert app.button(key="adapt").disabled
    assert "Record at least 3 sentences first." in [caption.value for caption in app.caption]
    assert any("Adapt first" in info.value for info in app.info)
    app.button(key="next_sentence").click().run()
    assert "Sentence **2** of 10" in [markdown.value for markdown in app.markdown]


def test_the_page_adapts_in_the_background_and_offers_the_weights(monkeypatch):
    monkeypatch.setenv("LIPNET_ADAPT_EPOCHS", "2")
    app = open_teach_page()
    session = tiny_session()
    app.session_state["teach"] = session
    app.run()
    assert not app.button(key="adapt").disabled
    app.button(key="adapt").click().run()
    assert session.job is not None
    wait_for(session.job, 180)
    app.run()
    assert not app.exception, app.exception
    assert session.job.state == "done", session.job.error
    assert any(text.value.startswith("Adapted on 3 of your clips") for text in app.success)
    assert session.adapted_weights.is_file() and session.adapted_weights.is_relative_to(session.workspace.path)
    assert app.get("download_button")
    assert not any("Adapt first" in info.value for info in app.info)


def test_the_published_and_the_adapted_network_read_one_clip_side_by_side(grid_dir, tmp_path):
    from lipnet_core.adaptation import AdaptationRecipe, adapt, load_adaptation_clips
    from lipnet_core.demo.teach import read_side_by_side
    from lipnet_core.paths import DEFAULT_WEIGHTS
    from lipnet_core.reader import LipReader

    if not (grid_dir / "s4").is_dir():
        pytest.skip("no speaker 4")
    clips = load_adaptation_clips([(grid_dir / "s4" / f"{clip_id}.mp4", sentence, clip_id) for clip_id, sentence in
                                   (("bbaf2a", "bin blue at f two again"), ("bbwgza", "bin blue with g zero again"),
                                    ("bgim8s", "bin green in m eight soon"))])
    adapt(clips, tmp_path, AdaptationRecipe(epochs=1), DEFAULT_WEIGHTS)
    result = read_side_by_side(LipReader(), LipReader(tmp_path / "lipnet.weights.h5"), grid_dir / "s4" / "sgav2s.mp4",
                               "set green at v two soon")
    assert result.published.crop == result.adapted.crop == "detected"
    assert result.published.decoder == "grid" and is_grid_sentence(result.adapted.text)
    assert result.published.box == result.adapted.box  # one crop, read by both
    assert set(result.scores()) == {"published", "adapted"}


def test_recent_results_keep_the_last_ones_used():
    from lipnet_core.demo.job_queue import RecentResults

    results = RecentResults(max_entries=2)
    results.put("a", 1)
    results.put("b", 2)
    assert results.get("a") == 1  # now "b" is the least recently used
    results.put("c", 3)
    assert (results.get("a"), results.get("b"), results.get("c"), len(results)) == (1, None, 3, 2)


def test_recent_results_stay_within_their_bytes():
    from lipnet_core.demo.job_queue import RecentResults

    results = RecentResults(max_entries=10, max_bytes=100, size_of=len)
    results.put("a", b"x" * 40)
    results.put("b", b"x" * 40)
    results.put("c", b"x" * 40)  # 120 bytes: "a" goes
    assert (results.get("a"), len(results), results.total_bytes) == (None, 2, 80)
    results.put("b", b"x" * 10)  # replacing a result counts its new size only
    assert results.total_bytes == 50
    results.put("huge", b"x" * 500)  # larger than the bound on its own: kept alone, as the one just made
    assert (len(results), results.get("huge") is not None) == (1, True)
