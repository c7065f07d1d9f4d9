"""CTC loss over the network's softmax output, in ``keras.ops`` so it runs under TensorFlow and JAX."""

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
