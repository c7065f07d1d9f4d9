"""Where adaptation's letter term looks for the letter: speaker 1's median window, scaled to the clip."""

import numpy as np
import pytest

from lipnet_core.alignments import load_alignment
from lipnet_core.dataset import list_clips
from lipnet_core.grid_sentences import LETTER_POSITION
from lipnet_core.letter_timing import SPEAKER1_LETTER_FRAMES, letter_row
from lipnet_core.vocabulary import text_to_ids


def test_the_letter_row_is_speaker_1s_window_with_the_sentences_letter():
    assert letter_row("bin blue at f two now") == (30, 35, int(text_to_ids("f")[0]))
    assert letter_row("set white with z zero please", 50) == (20, 23, int(text_to_ids("z")[0]))
    assert letter_row("lay red in a one soon", 3)[1] > letter_row("lay red in a one soon", 3)[0]


def test_a_sentence_that_is_not_grids_has_no_letter_row():
    with pytest.raises(ValueError, match="not a GRID sentence"):
        letter_row("hello there")


def test_the_window_is_the_median_of_speaker_1s_alignments(grid_dir):
    spans = [load_alignment(clip.alignment_path).word_spans for clip in list_clips(grid_dir, "s1")]
    letters = np.array([clip_spans[LETTER_POSITION] for clip_spans in spans if len(clip_spans) == 6])
    assert len(letters) > 800
    assert tuple(int(frame) for frame in np.median(letters, axis=0)) == SPEAKER1_LETTER_FRAMES
