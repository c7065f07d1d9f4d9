"""CTC forced alignment: the path of a known sentence, each word's frames, and the letter row adaptation trains on."""

import numpy as np
import pytest

from lipnet_core.forced_alignment import BLANK_POSITION, forced_letter_row, forced_path, word_frames
from lipnet_core.losses import letter_loss
from lipnet_core.vocabulary import BLANK_INDEX, NUM_CLASSES, text_to_ids

SENTENCE = "bin red at a one now"


def peaked(label_ids, emit_at, num_frames=75, sure=0.9):
    """(T, 41) probabilities: label i most likely at frame emit_at[i], a blank most likely everywhere else."""
    probabilities = np.full((num_frames, NUM_CLASSES), (1 - sure) / (NUM_CLASSES - 1))
    probabilities[:, BLANK_INDEX] = sure
    for label, frame in zip(label_ids, emit_at):
        probabilities[frame] = (1 - sure) / (NUM_CLASSES - 1)
        probabilities[frame, label] = sure
    return probabilities


def test_the_path_puts_each_label_where_the_network_is_sure_of_it():
    ids = text_to_ids(SENTENCE)
    emit_at = [3 * i + 5 for i in range(len(ids))]
    path = forced_path(peaked(ids, emit_at), ids)
    assert [int(np.flatnonzero(path == position)[0]) for position in range(len(ids))] == emit_at
    assert np.all(path[np.setdiff1d(np.arange(75), emit_at)] == BLANK_POSITION)


def test_a_label_the_network_puts_elsewhere_is_still_given_a_frame_in_order():
    ids = text_to_ids("bin red at a one now")
    emit_at = [3 * i + 5 for i in range(len(ids))]
    probabilities = peaked(ids, emit_at)
    probabilities[emit_at[11]] = probabilities[0]  # the network does not see the letter "a" at all
    path = forced_path(probabilities, ids)
    assert np.count_nonzero(path == 11) >= 1
    assert np.all(np.diff(path[path != BLANK_POSITION]) >= 0)  # in the sentence's order


def test_a_repeated_character_gets_a_blank_between_its_two_frames():
    ids = text_to_ids("ee")
    path = forced_path(np.full((3, NUM_CLASSES), 1 / NUM_CLASSES), ids)
    assert path.tolist() == [0, BLANK_POSITION, 1]
    with pytest.raises(ValueError, match="do not fit"):
        forced_path(np.full((2, NUM_CLASSES), 1 / NUM_CLASSES), ids)


def test_a_word_runs_from_the_space_before_it_to_the_space_after_it():
    ids = text_to_ids(SENTENCE)
    path = forced_path(peaked(ids, [3 * i + 5 for i in range(len(ids))]), ids)
    spans = word_frames(path, SENTENCE)
    # spaces at positions 3, 7, 10, 12, 16, emitted at frames 14, 26, 35, 41, 53
    assert spans == [(0, 14), (15, 26), (27, 35), (36, 41), (42, 53), (54, 75)]


def test_the_letter_row_is_where_the_network_would_emit_the_letter_and_drives_the_letter_term():
    ids = text_to_ids(SENTENCE)
    probabilities = peaked(ids, [3 * i + 5 for i in range(len(ids))])
    row = forced_letter_row(probabilities, SENTENCE)
    assert row == (36, 41, int(text_to_ids("a")[0]))
    other_letter = probabilities.copy()
    other_letter[38] = probabilities[0]
    other_letter[38, text_to_ids("b")[0]] = 0.9
    rows = np.array([row, row], np.int32)
    loss = np.asarray(letter_loss(rows, np.stack([probabilities, other_letter]).astype(np.float32)))
    assert loss[0] < loss[1]
    with pytest.raises(ValueError, match="not a GRID sentence"):
        forced_letter_row(probabilities, "hello there")
