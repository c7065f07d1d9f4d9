"""Where a GRID speaker says the letter, without word timings: at speaker 1's median time.

Adaptation's letter term (:func:`lipnet_core.losses.letter_loss`) needs the frames of each clip's letter, and a new
speaker has no word timings. GRID speakers read their sentences at much the same pace, so speaker 1's corpus
alignments say where most speakers say the letter: the median of its 900 clips puts it at frames 30 to 35 of 75. On
speakers 26 and 31, whose corpus alignments say where each word is, that window overlaps the true letter by 0.26
and 0.66 (intersection over union); the frames where the published network would emit the letter (CTC forced
alignment, :mod:`lipnet_core.forced_alignment`, what adaptation used before) by 0.00 and 0.07, since CTC emits a
character in a frame or two wherever the BiLSTMs choose (``experiments/letter_timing_probe.py``, docs/adaptation.md).
"""

from lipnet_core.grid_sentences import LETTER_POSITION, is_grid_sentence
from lipnet_core.vocabulary import text_to_ids

GRID_CLIP_FRAMES = 75
SPEAKER1_LETTER_FRAMES = (30, 35)  # first and end (exclusive) frame: medians over speaker 1's 900 alignments


def letter_row(sentence: str, num_frames: int = GRID_CLIP_FRAMES) -> tuple[int, int, int]:
    """(first frame, end frame, character id) of a GRID sentence's letter in a clip of ``num_frames``: speaker 1's
    median window, scaled to the clip's length; the row :func:`lipnet_core.losses.letter_loss` takes.

    Raises:
        ValueError: not a GRID sentence.
    """
    if not is_grid_sentence(sentence):
        raise ValueError(f"not a GRID sentence: {sentence!r}")
    first, end = (round(frame * num_frames / GRID_CLIP_FRAMES) for frame in SPEAKER1_LETTER_FRAMES)
    return first, max(end, first + 1), int(text_to_ids(sentence.split()[LETTER_POSITION])[0])
