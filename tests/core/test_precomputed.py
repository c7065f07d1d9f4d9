"""Precomputed readings: stored network outputs are found only for the same weights and the same clip bytes, and
decoding them gives what running the network gives."""

import numpy as np
import pytest

from lipnet_core.errors import ClipError, LipNetError
from lipnet_core.paths import DEFAULT_WEIGHTS, file_sha256
from lipnet_core.precomputed import (
    load_readings,
    pack_readings,
    readings_for_weights,
    readings_path_for,
    save_readings,
)
from lipnet_core.vocabulary import NUM_CLASSES


def softmax_rows(num_frames: int, seed: int) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(num_frames, NUM_CLASSES))
    return (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def two_clips(tmp_path):
    first, second = tmp_path / "aaaa1a.mp4", tmp_path / "bbbb2b.mp4"
    first.write_bytes(b"first clip")
    second.write_bytes(b"second clip")
    return first, second


def test_readings_round_trip_per_clip_and_refuse_changed_clips(tmp_path, two_clips):
    first, second = two_clips
    outputs = [softmax_rows(75, 0), softmax_rows(60, 1)]
    readings = pack_readings("ab" * 32, "grid", ["aaaa1a", "bbbb2b"], [file_sha256(first), file_sha256(second)],
                             outputs)
    path = tmp_path / "readings" / readings_path_for("ab" * 32).name
    save_readings(path, readings)

    loaded = readings_for_weights("ab" * 32, path.parent)
    assert len(loaded) == 2 and "bbbb2b" in loaded and loaded.crop == "grid"
    for clip_id, clip_path, expected in zip(["aaaa1a", "bbbb2b"], two_clips, outputs):
        stored = loaded.class_probabilities(clip_id, clip_path)
        assert stored.dtype == np.float32 and stored.shape == expected.shape
        np.testing.assert_allclose(stored, expected, atol=1e-3)
    assert loaded.class_probabilities("cccc3c") is None
    second.write_bytes(b"the clip was replaced")
    assert loaded.class_probabilities("bbbb2b", second) is None, "other bytes: the stored output is not this clip's"
    assert readings_for_weights("cd" * 32, path.parent) is None, "other weights: no readings"


def test_a_damaged_readings_file_is_one_clear_error(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not a numpy archive")
    with pytest.raises(LipNetError, match="precompute"):
        load_readings(path)


@pytest.mark.slow
@pytest.mark.grid_data
def test_decoding_stored_outputs_reads_like_running_the_network(grid_dir, tmp_path):
    """A stored float16 output decodes to the same sentences; the reading says the network was not run."""
    from lipnet_core.reader import LipReader

    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("no published weights")
    reader = LipReader()
    clip_path = grid_dir / "s1" / "bbie8n.mp4"
    live = reader.read(clip_path, crop="grid")
    readings = pack_readings(file_sha256(DEFAULT_WEIGHTS), "grid", ["bbie8n"], [file_sha256(clip_path)],
                             [live.class_probabilities])
    stored = reader.read(clip_path, crop="grid", class_probabilities=readings.class_probabilities("bbie8n", clip_path))
    assert stored.precomputed and not live.precomputed
    for array in (live.key_frame, live.mouth_frames):  # a view would keep the whole clip alive
        assert array.base is None, "a kept reading must own its arrays, not view the decoded clip"
    assert {name: decoded.text for name, decoded in stored.decodings.items()} == \
        {name: decoded.text for name, decoded in live.decodings.items()}
    with pytest.raises(ClipError, match="precompute"):
        reader.read(clip_path, crop="grid", class_probabilities=live.class_probabilities[:10])


@pytest.mark.grid_data
def test_the_committed_readings_cover_every_speaker_1_clip(grid_dir):
    """The readings shipped for the published weights hold each clip of speaker 1 with its current bytes."""
    from lipnet_core.dataset import list_clips

    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("no published weights")
    readings = readings_for_weights(file_sha256(DEFAULT_WEIGHTS))
    assert readings is not None, "run `python -m lipnet_core precompute` and commit models/readings/"
    clips = list_clips(grid_dir)
    assert {clip.clip_id for clip in clips} <= set(readings.clip_ids)
    for clip in clips[:: len(clips) // 10]:
        probabilities = readings.class_probabilities(clip.clip_id, clip.video_path)
        assert probabilities is not None, clip.clip_id
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=0.02)
