"""Per-frame class probabilities (T, 41) → text, with Keras 3's CTC decoder.

``keras.ops.ctc_decode`` takes logits; we give it the log of the softmax output (log-softmax of a log-probability
is itself) and the blank explicitly as ``mask_index=40``.
"""

from dataclasses import dataclass

import numpy as np
from keras import ops

from lipnet_core.losses import SMALLEST_PROBABILITY, log_probabilities
from lipnet_core.vocabulary import BLANK_INDEX, ids_to_text

DEFAULT_BEAM_WIDTH = 32


@dataclass(frozen=True)
class Decoded:
    """One decoder's reading of one clip."""

    decoder: str
    text: str
    tokens: tuple[int, ...]  # collapsed label ids (1..39), as the decoder emitted them
    log_probability: float


def ctc_decode_batch(class_probabilities, strategy="greedy", beam_width=DEFAULT_BEAM_WIDTH, lengths=None) -> list[Decoded]:
    """Decode a batch (B, T, 41) with ``greedy`` or ``beam`` search; one :class:`Decoded` per clip."""
    class_probabilities = np.asarray(class_probabilities, dtype=np.float32)
    batch_size, num_frames, _ = class_probabilities.shape
    if lengths is None:
        lengths = np.full((batch_size,), num_frames, dtype=np.int32)
    keras_strategy = {"greedy": "greedy", "beam": "beam_search"}[strategy]
    decoded, scores = ops.ctc_decode(
        log_probabilities(class_probabilities),
        np.asarray(lengths, dtype=np.int32),
        strategy=keras_strategy,
        beam_width=beam_width,
        top_paths=1,
        mask_index=BLANK_INDEX,
    )
    decoded = ops.convert_to_numpy(decoded)[0]  # B x T, padded with -1
    scores = ops.convert_to_numpy(scores).reshape(batch_size, -1)[:, 0]
    if strategy == "greedy":  # backends disagree on the sign; the greedy path's log-probability is a plain sum
        scores = np.log(np.maximum(class_probabilities.max(axis=-1), SMALLEST_PROBABILITY)).sum(axis=-1)
    results = []
    for row, score in zip(decoded, scores):
        tokens = tuple(int(token) for token in row if 0 <= token < BLANK_INDEX)
        results.append(Decoded(strategy, ids_to_text(tokens), tokens, float(score)))
    return results


def ctc_decode(class_probabilities, strategy="greedy", beam_width=DEFAULT_BEAM_WIDTH) -> Decoded:
    """Decode one clip's (T, 41) probabilities."""
    return ctc_decode_batch(np.asarray(class_probabilities)[np.newaxis], strategy, beam_width)[0]
