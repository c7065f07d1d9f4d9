import numpy as np
import pytest

from lipnet_core.decoding import ctc_decode, ctc_decode_batch
from lipnet_core.vocabulary import BLANK_INDEX, text_to_ids


def peaked(path, peak=0.9):
    """(T, 41) probabilities with ``peak`` on each frame's class in ``path`` and the rest spread evenly."""
    probabilities = np.full((len(path), 41), (1 - peak) / 40, np.float32)
    probabilities[np.arange(len(path)), path] = peak
    return probabilities


def frames_for(text, blank=BLANK_INDEX):
    """Each character twice, then a blank: b b _ i i _ n n _ ..."""
    path = [blank] * 3
    for character_id in text_to_ids(text):
        path += [int(character_id)] * 2 + [blank]
    return path + [blank] * 3


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_collapses_repeats_and_drops_blanks(strategy):
    decoded = ctc_decode(peaked(frames_for("bin blue at f two now")), strategy)
    assert decoded.text == "bin blue at f two now"
    assert decoded.tokens == tuple(text_to_ids("bin blue at f two now").tolist())
    assert decoded.decoder == strategy and decoded.log_probability < 0


def test_a_blank_separates_a_doubled_letter():
    assert ctc_decode(peaked(frames_for("green"))).text == "green"
    assert ctc_decode(peaked([7, 18, 5, 5, 5, 14])).text == "gren"  # no blank between the e's: they merge


def test_beam_sums_paths_that_greedy_misses():
    # Frame-wise argmax is blank, blank ("" → empty), but "a" has more total probability: 1 - 0.4² = 0.84.
    probabilities = np.full((2, 41), 1e-6, np.float32)
    probabilities[:, BLANK_INDEX] = 0.4
    probabilities[:, 1] = 0.35
    probabilities[:, 2] = 0.25
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    assert ctc_decode(probabilities, "greedy").text == ""
    assert ctc_decode(probabilities, "beam").text == "a"


def test_batch_with_lengths():
    batch = np.stack([peaked(frames_for("set")), peaked(frames_for("lay") + [BLANK_INDEX] * 0)])
    results = ctc_decode_batch(batch, "greedy", lengths=[len(frames_for("set")), 6])
    assert [result.text for result in results] == ["set", "l"]
