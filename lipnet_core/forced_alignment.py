"""CTC forced alignment: where a network puts each character of a sentence it is told, frame by frame.

Adaptation first used it to find a new speaker's letter without word timings, for the letter term
(:func:`lipnet_core.losses.letter_loss`): the frames where the *published* network would emit the letter of the known
sentence. On speakers 26 and 31 those frames rarely coincide with the corpus's timing of the letter (CTC emits a
character in a frame or two, wherever the BiLSTMs choose), and speaker 1's median timing of the letter
(:mod:`lipnet_core.letter_timing`) overlaps it far better and adapted speaker 4 better, so adaptation now uses that.
The probes in ``experiments/`` (``forced_letter_probe.py``, ``slot_terms_probe.py``, ``letter_timing_probe.py``)
still align with it.
"""

import numpy as np

from lipnet_core.grid_sentences import LETTER_POSITION, is_grid_sentence
from lipnet_core.losses import SMALLEST_PROBABILITY
from lipnet_core.vocabulary import BLANK_INDEX, text_to_ids

BLANK_POSITION = -1


def forced_path(class_probabilities: np.ndarray, label_ids) -> np.ndarray:
    """The most probable CTC path of ``label_ids`` through (T, 41) probabilities (Viterbi).

    Returns (T,) int: each frame's position in ``label_ids`` (0-based), or ``BLANK_POSITION`` for a blank. Every
    label gets at least one frame, and repeated labels a blank between them, as CTC requires.

    Raises:
        ValueError: the labels need more frames than there are.
    """
    label_ids = np.asarray(label_ids)
    log_probabilities = np.log(np.maximum(np.asarray(class_probabilities, np.float64), SMALLEST_PROBABILITY))
    frames, states = len(log_probabilities), 2 * len(label_ids) + 1  # blank, label 0, blank, label 1, ..., blank
    extended = np.full(states, BLANK_INDEX)
    extended[1::2] = label_ids
    may_skip = np.zeros(states, bool)  # a label may follow the previous label directly unless it repeats it
    may_skip[3::2] = label_ids[1:] != label_ids[:-1]
    score = np.full(states, -np.inf)
    score[:2] = log_probabilities[0, extended[:2]]
    came_back = np.zeros((frames, states), np.int64)  # how many states back each state's best predecessor lies
    for frame in range(1, frames):
        choices = np.stack([score, np.r_[-np.inf, score[:-1]], np.where(may_skip, np.r_[-np.inf, -np.inf, score[:-2]],
                                                                        -np.inf)])
        came_back[frame] = choices.argmax(axis=0)
        score = choices.max(axis=0) + log_probabilities[frame, extended]
    state = states - 1 if states == 1 or score[-1] >= score[-2] else states - 2
    if not np.isfinite(score[state]):
        raise ValueError(f"{len(label_ids)} labels do not fit in {frames} frames")
    path = np.empty(frames, np.int64)
    for frame in range(frames - 1, -1, -1):
        path[frame] = state
        state -= came_back[frame, state]
    return np.where(path % 2 == 1, (path - 1) // 2, BLANK_POSITION)


def word_frames(path: np.ndarray, sentence: str) -> list[tuple[int, int]]:
    """Each word's (start, end exclusive) frames on a forced path of ``sentence``: from the frame after the space
    before it (0 for the first word) to the first frame of the space after it (the clip's end for the last word), so
    the blanks around a word belong to it."""
    spaces = [position for position, character in enumerate(sentence) if character == " "]
    starts = [0] + [int(np.flatnonzero(path == position)[-1]) + 1 for position in spaces]
    ends = [int(np.flatnonzero(path == position)[0]) for position in spaces] + [len(path)]
    return list(zip(starts, ends))


def forced_letter_row(class_probabilities: np.ndarray, sentence: str) -> tuple[int, int, int]:
    """(first frame, end frame, character id) of a GRID sentence's letter where the network would emit it: the row
    :func:`lipnet_core.losses.letter_loss` takes.

    Raises:
        ValueError: not a GRID sentence, or too long for the frames.
    """
    if not is_grid_sentence(sentence):
        raise ValueError(f"not a GRID sentence: {sentence!r}")
    path = forced_path(class_probabilities, text_to_ids(sentence))
    start, end = word_frames(path, sentence)[LETTER_POSITION]
    return start, end, int(text_to_ids(sentence.split()[LETTER_POSITION])[0])
