"""CTC loss over the network's softmax output, in ``keras.ops`` so it runs under TensorFlow and JAX.

Beside it, the letter term: CTC gives the GRID letter's one character little weight against the sentence's other
25 or so, and networks trained with CTC alone rarely read it (docs/experiments.md, docs/adaptation.md)."""

import numpy as np
from keras import ops

from lipnet_core.vocabulary import BLANK_INDEX, PAD_INDEX, text_to_ids

SMALLEST_PROBABILITY = 1e-12  # the floor under a probability before its log
MAX_LABEL_LENGTH = 48  # characters; the longest GRID sentence has 36


def log_probabilities(class_probabilities):
    """Softmax output → log-probabilities, which Keras 3's CTC ops take as their ``logits``."""
    return ops.log(ops.maximum(ops.cast(class_probabilities, "float32"), SMALLEST_PROBABILITY))


def ctc_loss(label_ids, class_probabilities):
    """Per-clip CTC loss.

    Args:
        label_ids: int (B, L), characters 1..39 padded with 0.
        class_probabilities: float (B, T, 41) softmax output; every clip in a batch has all T frames.
    Returns:
        float32 (B,) negative log-likelihoods.
    """
    label_ids = ops.cast(label_ids, "int32")
    label_lengths = ops.sum(ops.cast(ops.not_equal(label_ids, PAD_INDEX), "int32"), axis=-1)
    batch_size, num_frames = ops.shape(class_probabilities)[0], ops.shape(class_probabilities)[1]
    frame_lengths = ops.full((batch_size,), num_frames, dtype="int32")
    return ops.ctc_loss(
        label_ids, log_probabilities(class_probabilities), label_lengths, frame_lengths, mask_index=BLANK_INDEX
    )


def padded_labels(sentences, max_length: int = MAX_LABEL_LENGTH) -> np.ndarray:
    """(B, max_length) int32 label ids padded with 0, the ``label_ids`` :func:`ctc_loss` takes."""
    labels = np.zeros((len(sentences), max_length), dtype=np.int32)
    for row, sentence in enumerate(sentences):
        ids = text_to_ids(sentence)
        if len(ids) > max_length:
            raise ValueError(f"Sentence longer than {max_length} characters: {sentence!r}")
        labels[row, : len(ids)] = ids
    return labels


def letter_loss(letter_rows, class_probabilities):
    """Per-clip ``−log`` of the letter's mean probability over its frames.

    Args:
        letter_rows: int (B, 3): each clip's letter's first frame, end frame (exclusive) and character id.
        class_probabilities: float (B, T, 41) softmax output.
    """
    letter_rows = ops.cast(letter_rows, "int32")
    class_probabilities = ops.cast(class_probabilities, "float32")
    frames = ops.arange(ops.shape(class_probabilities)[1])[None, :]
    inside = ops.cast((frames >= letter_rows[:, 0:1]) & (frames < letter_rows[:, 1:2]), "float32")
    letter_column = letter_rows[:, 2:3, None] * ops.ones_like(class_probabilities[:, :, :1], dtype="int32")
    letter_probability = ops.take_along_axis(class_probabilities, letter_column, axis=2)[:, :, 0]
    mean_probability = ops.sum(letter_probability * inside, axis=1) / ops.maximum(ops.sum(inside, axis=1), 1.0)
    return -ops.log(ops.maximum(mean_probability, 1e-6))


def ctc_and_letter_loss(letter_weight: float):
    """The Keras loss over targets (B, 48 + 3): the padded label ids, then the letter rows of :func:`letter_loss`;
    CTC plus ``letter_weight`` × :func:`letter_loss`."""

    def loss(targets, class_probabilities):
        targets = ops.cast(targets, "int32")
        return ctc_loss(targets[:, :MAX_LABEL_LENGTH], class_probabilities) + letter_weight * letter_loss(
            targets[:, MAX_LABEL_LENGTH:], class_probabilities
        )

    return loss
