"""Shared fixtures: the GRID data directory (skipped with a reason when absent) and synthetic clips."""

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parent.parent


def _grid_dir() -> Path | None:
    candidates = [os.environ.get("LIPNET_DATA_DIR"), REPO_ROOT / "data", REPO_ROOT.parent / "shared" / "grid"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "s1").is_dir() and (Path(candidate) / "alignments" / "s1").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The project's root folder (where ``app.py`` and ``models/`` are)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory) -> Path:
    """A LipNet weights file with random values: drives the reading path whether or not trained weights exist."""
    from lipnet_core.model import build_model

    path = tmp_path_factory.mktemp("weights") / "random.weights.h5"
    build_model(num_frames=None).save_weights(path)
    return path


@pytest.fixture(scope="session")
def reader(random_weights):
    """One LipReader on the random weights, shared by the tests that only need the reading path to run."""
    from lipnet_core.reader import LipReader

    return LipReader(weights=random_weights)


@pytest.fixture(scope="session")
def grid_dir() -> Path:
    """The GRID speaker-1 directory ($LIPNET_DATA_DIR, ./data or ../shared/grid)."""
    directory = _grid_dir()
    if directory is None:
        pytest.skip("no GRID data: set LIPNET_DATA_DIR to a directory with s1/ and alignments/s1/")
    return directory


def write_clip(path, frames_bgr, fps=25.0, fourcc="mp4v") -> Path:
    """Write (T, H, W, 3) uint8 frames with OpenCV's VideoWriter."""
    path = Path(path)
    height, width = frames_bgr.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"VideoWriter could not open {path}"
    for frame in frames_bgr:
        writer.write(np.ascontiguousarray(frame))
    writer.release()
    return path


def moving_pattern(num_frames=75, height=288, width=360, seed=0) -> np.ndarray:
    """Frames with a smooth moving pattern (compresses well and survives lossy codecs)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    frames = np.empty((num_frames, height, width, 3), dtype=np.uint8)
    phase = rng.uniform(0, 2 * np.pi, 3)
    for t in range(num_frames):
        for channel in range(3):
            wave = np.sin(x / 17.0 + t / 5.0 + phase[channel]) + np.cos(y / 23.0 - t / 7.0 + channel)
            frames[t, :, :, channel] = (127 + 60 * wave).astype(np.uint8)
    return frames


@pytest.fixture(scope="session")
def clip_writer():
    """``write_clip(path, frames_bgr, fps=25.0, fourcc="mp4v")`` for tests that make their own frames."""
    return write_clip


@pytest.fixture(scope="session")
def pattern_frames():
    """``moving_pattern(num_frames, height, width, seed=0)``: (T, H, W, 3) uint8 frames that survive lossy codecs."""
    return moving_pattern


@pytest.fixture
def synthetic_clip(tmp_path):
    """A factory: synthetic_clip(num_frames=75, fps=25, size=(288, 360), suffix='.mp4') → path."""

    def make(num_frames=75, fps=25.0, size=(288, 360), suffix=".mp4", fourcc="mp4v", seed=0):
        frames = moving_pattern(num_frames, size[0], size[1], seed)
        return write_clip(tmp_path / f"clip_{num_frames}_{int(fps)}_{size[0]}x{size[1]}{suffix}", frames, fps, fourcc)

    return make


@pytest.fixture
def bad_clip_files(tmp_path, synthetic_clip):
    """Files a user might upload that are not usable clips, by name."""
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "text.mp4"
    text.write_text("this is not a video\n" * 50)
    whole = synthetic_clip(num_frames=75).read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole[: len(whole) // 3])
    no_face = synthetic_clip(num_frames=50, size=(240, 320))
    return {"empty": empty, "text": text, "truncated": truncated, "no face": no_face}


def pytest_collection_modifyitems(items):
    """Mark what a test needs, so ``-m "not grid_data"`` or ``-m "not browser"`` can leave it out."""
    for item in items:
        if "grid_dir" in item.fixturenames:
            item.add_marker(pytest.mark.grid_data)
        if item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
