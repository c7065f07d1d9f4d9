"""GRID-grammar CTC decoding: per-frame class probabilities (T, 41) → the most probable GRID sentence.

Every GRID sentence is six words, one from each slot of :data:`~lipnet_core.grid_sentences.GRID_GRAMMAR`, joined by
single spaces (4·4·4·25·10·4 = 64,000 sentences). A sentence's score is its CTC log-likelihood: the log of the sum
over all alignments (blanks anywhere, a blank required between repeated characters such as the "ee" in "green").

The search is a word-synchronous beam search scored by exact grammar marginals:

1. A backward pass over the grammar (run on time-reversed frames with the same prefix recurrence) gives, for each
   slot boundary k and frame t, the total probability that frames t..T read out *any* grammatical ending
   " w(k+1) … w(6)". Merging the words of a slot is exact because the next character is always a space.
2. Slot by slot, every kept word prefix is extended by every word of the next slot; each extension's CTC prefix
   state (p_blank, p_nonblank at every frame) comes from two first-order linear recurrences, solved for all frames
   at once with ``cumsum`` and ``np.logaddexp.accumulate``, vectorised over (prefix, word) pairs.
3. A prefix's score is the exact log-probability mass of all grammatical sentences that start with it. It ranks the
   prefixes (the ``beam_width`` best survive each slot) and bounds every completion, so after the last slot the
   scores are exact sentence log-likelihoods, and the answer is provably optimal whenever it beats the best score
   that was pruned (see :func:`grid_grammar_search`).

Probabilities are floored at 1e-12 before the log, as in :mod:`lipnet_core.losses`.
"""

from dataclasses import dataclass

import numpy as np

from lipnet_core.decoding import Decoded
from lipnet_core.grid_sentences import GRID_GRAMMAR
from lipnet_core.losses import SMALLEST_PROBABILITY
from lipnet_core.vocabulary import BLANK_INDEX, NUM_CLASSES, text_to_ids

DEFAULT_GRID_BEAM_WIDTH = 16
_SPACE_INDEX = int(text_to_ids(" ")[0])


def _frames_needed(label_ids) -> int:
    """The fewest frames CTC needs for a label sequence: one per label plus a blank between repeated labels."""
    label_ids = np.asarray(label_ids)
    return len(label_ids) + int(np.sum(label_ids[1:] == label_ids[:-1]))


_SEPARATORS = len(GRID_GRAMMAR) - 1
MIN_FRAMES = sum(min(_frames_needed(text_to_ids(word)) for word in slot) for slot in GRID_GRAMMAR) + _SEPARATORS
"""The fewest frames any GRID sentence needs (20: "bin red at a one now" has 20 characters and no doubled letter)."""


def ctc_log_likelihood(log_probs: np.ndarray, label_ids) -> float:
    """Exact CTC log-likelihood of one label sequence (the forward algorithm in log space).

    Args:
        log_probs: float (T, 41) per-frame log-probabilities; index 40 is the blank.
        label_ids: int (L,) labels in 1..39.
    Returns:
        log p(labels | frames), summed over every alignment; ``-inf`` when T is too short for the labels.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    labels = np.asarray(label_ids, dtype=np.int64).ravel()
    num_frames = log_probs.shape[0]
    if num_frames == 0:
        return 0.0 if labels.size == 0 else -np.inf
    extended = np.full(2 * labels.size + 1, BLANK_INDEX, dtype=np.int64)  # blank, l1, blank, l2, …, blank
    extended[1::2] = labels
    can_skip = np.zeros(extended.size, dtype=bool)  # label → next label without a blank between
    can_skip[3::2] = labels[1:] != labels[:-1]
    alpha = np.full(extended.size, -np.inf)
    alpha[:2] = log_probs[0, extended[:2]]
    for frame in log_probs[1:]:
        from_previous = np.concatenate(([-np.inf], alpha[:-1]))
        from_skip = np.where(can_skip, np.concatenate(([-np.inf, -np.inf], alpha[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, from_previous), from_skip) + frame[extended]
    return float(np.logaddexp.reduce(alpha[-2:]))


@dataclass(frozen=True)
class GridSearchResult:
    """The complete sentences left in the beam, best first, with their exact CTC log-likelihoods.

    ``is_optimal`` is True when the best sentence provably beats every sentence of the grammar: each pruned prefix's
    score is the total mass of its completions, so none of them can hold a better sentence.
    """

    sentences: tuple[str, ...]
    log_probabilities: tuple[float, ...]
    is_optimal: bool


class _PrefixRecurrence:
    """CTC prefix states for a whole clip at once; arrays are time-major (T+1, N), row 0 is "before any frame"."""

    def __init__(self, log_probs: np.ndarray):
        self.num_frames = log_probs.shape[0]
        # cumulative[t, c] = sum of log y_c over frames 1..t
        self.cumulative = np.vstack([np.zeros((1, NUM_CLASSES)), np.cumsum(log_probs, axis=0)])

    def empty_prefix(self, count=1):
        """(log p_nonblank, log p_blank) of the empty prefix: only blanks so far."""
        nonblank = np.full((self.num_frames + 1, count), -np.inf)
        blank = np.repeat(self.cumulative[:, BLANK_INDEX : BLANK_INDEX + 1], count, axis=1)
        return nonblank, blank

    def _solve(self, log_gain_cumulative, log_inflow):
        """Probabilities x_0 = 0, x_t = y_t·(x_{t-1} + inflow_{t-1}) for all t at once: x_t = Y_t·Σ_{s<t} inflow_s/Y_s.

        ``log_gain_cumulative`` is log Y_t (the cumulative log y), so every term stays in log space.
        """
        accumulated = np.logaddexp.accumulate(log_inflow[:-1] - log_gain_cumulative[:-1], axis=0)
        return np.vstack([np.full((1, log_inflow.shape[1]), -np.inf), log_gain_cumulative[1:] + accumulated])

    def extend(self, nonblank, blank, characters, repeats):
        """Append one character per row; ``repeats`` marks rows whose character equals the prefix's last one."""
        inflow = np.logaddexp(nonblank, blank)
        if repeats.any():
            inflow = np.where(repeats, blank, inflow)
        new_nonblank = self._solve(self.cumulative[:, characters], inflow)
        new_blank = self._solve(self.cumulative[:, BLANK_INDEX : BLANK_INDEX + 1], new_nonblank)
        return new_nonblank, new_blank

    def extend_by_pieces(self, nonblank, blank, pieces, lengths):
        """Append a padded (N, J) array of label pieces, row by row; rows stop at their own length."""
        for position in range(pieces.shape[1]):
            active = np.flatnonzero(position < lengths)
            characters = pieces[active, position]
            if position == 0:
                repeats = np.zeros(active.size, dtype=bool)  # pieces start with a space or after the empty prefix
            else:
                repeats = characters == pieces[active, position - 1]
            if active.size == lengths.size:
                nonblank, blank = self.extend(nonblank, blank, characters, repeats)
            else:
                nonblank, blank = nonblank.copy(), blank.copy()
                nonblank[:, active], blank[:, active] = self.extend(
                    nonblank[:, active], blank[:, active], characters, repeats
                )
        return nonblank, blank


def _pad_pieces(texts):
    encoded = [text_to_ids(text) for text in texts]
    lengths = np.array([piece.size for piece in encoded])
    pieces = np.zeros((len(encoded), lengths.max()), dtype=np.int64)
    for row, piece in enumerate(encoded):
        pieces[row, : piece.size] = piece
    return pieces, lengths


_FORWARD_PIECES = [  # slot 1 starts the sentence; later slots start with their separating space
    _pad_pieces(slot if index == 0 else [" " + word for word in slot]) for index, slot in enumerate(GRID_GRAMMAR)
]
_REVERSED_PIECES = [_pad_pieces([word[::-1] for word in slot]) for slot in GRID_GRAMMAR]


def _logsumexp(values, axis):
    peak = np.max(values, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(peak, axis=axis) + np.log(np.sum(np.exp(values - peak), axis=axis))


def _ending_masses(log_probs):
    """endings[k][t] = log P(frames t+1..T read " w(k+2) … w(6)" with frame t+1 emitting that first space), k=0..4."""
    reversed_recurrence = _PrefixRecurrence(log_probs[::-1])
    nonblank, blank = reversed_recurrence.empty_prefix()
    endings = [None] * (len(GRID_GRAMMAR) - 1)
    space = np.array([_SPACE_INDEX])
    for slot in range(len(GRID_GRAMMAR) - 1, 0, -1):
        pieces, lengths = _REVERSED_PIECES[slot]
        count = lengths.size
        word_nonblank, word_blank = reversed_recurrence.extend_by_pieces(
            np.repeat(nonblank, count, axis=1), np.repeat(blank, count, axis=1), pieces, lengths
        )
        merged = (_logsumexp(word_nonblank, axis=1)[:, None], _logsumexp(word_blank, axis=1)[:, None])
        nonblank, blank = reversed_recurrence.extend(*merged, space, np.zeros(1, dtype=bool))
        endings[slot - 1] = nonblank[:0:-1, 0]  # reversed frame T+1-s ↔ the ending's first frame s = t+1
    return endings


def _prefix_scores(nonblank, blank, endings, slot):
    """Each prefix's log-mass of all grammatical sentences that start with it: the prefix read out by frame t, times
    any ending from frame t+1 (after the last slot, the prefix read out by the last frame)."""
    total = np.logaddexp(nonblank, blank)  # (T+1, pairs): the prefix, read out by frame t
    num_frames = total.shape[0] - 1
    if slot < len(GRID_GRAMMAR) - 1:
        return _logsumexp(total[:num_frames] + endings[slot][:, None], axis=0)
    return total[num_frames]


def grid_grammar_search(
    class_probabilities: np.ndarray, beam_width: int = DEFAULT_GRID_BEAM_WIDTH
) -> GridSearchResult:
    """Beam search over the GRID grammar; see the module docstring.

    Args:
        class_probabilities: float (T, 41) softmax output.
        beam_width: word prefixes kept after each slot (≥ 1).
    Returns:
        The complete sentences in the final beam, best first. When T < :data:`MIN_FRAMES` no sentence fits and the
        result is empty (``is_optimal`` True: nothing was missed).
    """
    class_probabilities = np.asarray(class_probabilities, dtype=np.float64)
    if class_probabilities.ndim != 2 or class_probabilities.shape[1] != NUM_CLASSES:
        raise ValueError(
            f"Expected class probabilities of shape (frames, {NUM_CLASSES}), got {class_probabilities.shape}."
        )
    if not np.all(np.isfinite(class_probabilities)):
        raise ValueError("The class probabilities contain NaN or infinity; check the model output.")
    if int(beam_width) != beam_width or beam_width < 1:
        raise ValueError(f"beam_width must be a whole number of at least 1, got {beam_width}.")
    beam_width = int(beam_width)
    num_frames = class_probabilities.shape[0]
    if num_frames < MIN_FRAMES:
        return GridSearchResult((), (), True)
    log_probs = np.log(np.maximum(class_probabilities, SMALLEST_PROBABILITY))
    recurrence = _PrefixRecurrence(log_probs)
    endings = _ending_masses(log_probs)

    nonblank, blank = recurrence.empty_prefix()
    words = np.zeros((1, 0), dtype=np.int64)  # word index per slot, one row per kept prefix
    best_pruned = -np.inf
    for slot, (pieces, lengths) in enumerate(_FORWARD_PIECES):
        kept, count = words.shape[0], lengths.size
        parent = np.repeat(np.arange(kept), count)
        word = np.tile(np.arange(count), kept)
        nonblank, blank = recurrence.extend_by_pieces(
            nonblank[:, parent], blank[:, parent], pieces[word], lengths[word]
        )
        scores = _prefix_scores(nonblank, blank, endings, slot)
        order = np.argsort(-scores, kind="stable")
        if order.size > beam_width:
            best_pruned = max(best_pruned, float(scores[order[beam_width]]))
            order = order[:beam_width]
        words = np.column_stack([words[parent[order]], word[order]])
        nonblank, blank, scores = nonblank[:, order], blank[:, order], scores[order]

    finite = np.isfinite(scores)
    sentences = tuple(" ".join(slot[index] for slot, index in zip(GRID_GRAMMAR, row)) for row in words[finite])
    log_probabilities = tuple(float(score) for score in scores[finite])
    is_optimal = not log_probabilities or log_probabilities[0] >= best_pruned
    return GridSearchResult(sentences, log_probabilities, is_optimal)


def grid_grammar_decode(class_probabilities: np.ndarray, beam_width: int = DEFAULT_GRID_BEAM_WIDTH) -> Decoded:
    """The most probable GRID sentence for one clip's (T, 41) probabilities.

    ``log_probability`` is the sentence's exact CTC log-likelihood. When the clip is too short for any GRID sentence
    (T < :data:`MIN_FRAMES`), the result is the empty text with ``log_probability = -inf``.
    """
    result = grid_grammar_search(class_probabilities, beam_width)
    if not result.sentences:
        return Decoded("grid", "", (), float("-inf"))
    text = result.sentences[0]
    return Decoded("grid", text, tuple(int(index) for index in text_to_ids(text)), result.log_probabilities[0])
