"""Where the network looks: which frames spell each word on the best path, and the gradient of that word's
probability with respect to the input pixels.

:func:`word_spans` is pure numpy on the (T, 41) probabilities. :func:`saliency_maps` needs gradients, so it is the
one place here that touches TensorFlow (imported inside it, so reading spans does not load the backend).
"""

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from lipnet_core.crop_box import MOUTH_HEIGHT, MOUTH_WIDTH
from lipnet_core.errors import ClipError, LipNetError
from lipnet_core.vocabulary import BLANK_INDEX, NUM_CLASSES, PAD_INDEX, VOCABULARY

SPACE_INDEX = VOCABULARY.index(" ")
MAX_TRACED_LENGTHS = 8  # per model: one traced gradient step per clip length, the oldest dropped first


@dataclass(frozen=True)
class WordSpan:
    """One word the greedy best path emits, and the frames that emit it.

    Attributes:
        text: the word as greedy decoding writes it (repeats merged, blanks dropped).
        first_frame, last_frame: the first and last frame (inclusive) whose best class is one of its characters.
        character_frames: the frames whose best class is one of its characters.
        classes: the best class of every frame from ``first_frame`` to ``last_frame``: its characters and the
            blanks between them, i.e. the word's stretch of the best path.
        log_probability: the natural log of that stretch's probability (the sum over its frames); near 0 when the
            network is sure of the word, and then the gradient of it is near 0 too.
    """

    text: str
    first_frame: int
    last_frame: int
    character_frames: tuple[int, ...]
    classes: tuple[int, ...]
    log_probability: float

    @property
    def frames(self) -> tuple[int, ...]:
        """Every frame of the word's stretch of the best path, in order (pairs with ``classes``)."""
        return tuple(range(self.first_frame, self.last_frame + 1))


def word_spans(class_probabilities: np.ndarray) -> list[WordSpan]:
    """(T, 41) probabilities → the words of the greedy best path, in order, each with its frames.

    A space on the best path ends a word; blanks (and the never-trained padding class) inside a word do not, which
    is how CTC reads them too, so the words are exactly ``greedy_text.split()``. A path of only blanks and spaces
    gives an empty list.
    """
    probabilities = np.asarray(class_probabilities)
    if probabilities.ndim != 2 or probabilities.shape[1] != NUM_CLASSES:
        raise ValueError(f"Expected (T, {NUM_CLASSES}) class probabilities, got shape {probabilities.shape}.")
    best = probabilities.argmax(axis=-1)
    log_best = _log_of_best(probabilities)
    spans, current = [], []  # current: the character frames of the word being read
    for frame in range(len(best) + 1):
        index = best[frame] if frame < len(best) else SPACE_INDEX
        if index == SPACE_INDEX and current:
            spans.append(_span(best, log_best, current))
            current = []
        elif index not in (SPACE_INDEX, BLANK_INDEX, PAD_INDEX):
            current.append(frame)
    return spans


def sentence_span(class_probabilities: np.ndarray) -> WordSpan:
    """The whole best path as one span: every frame with its best class (spaces and blanks included)."""
    probabilities = np.asarray(class_probabilities)
    best = probabilities.argmax(axis=-1)
    words = word_spans(probabilities)
    return WordSpan(
        text=" ".join(word.text for word in words),
        first_frame=0,
        last_frame=len(best) - 1,
        character_frames=tuple(frame for word in words for frame in word.character_frames),
        classes=tuple(int(index) for index in best),
        log_probability=float(_log_of_best(probabilities).sum()),
    )


def _log_of_best(probabilities: np.ndarray) -> np.ndarray:
    """(T, 41) → (T,) float64 log of each frame's best probability (floored, so an all-zero row stays finite)."""
    return np.log(np.maximum(probabilities.max(axis=-1).astype(np.float64), np.finfo(np.float64).tiny))


def _span(best: np.ndarray, log_best: np.ndarray, character_frames: list[int]) -> WordSpan:
    first, last = character_frames[0], character_frames[-1]
    merged = [index for position, index in enumerate(best[first:last + 1])
              if position == 0 or index != best[first + position - 1]]
    text = "".join(VOCABULARY[index] for index in merged if index not in (BLANK_INDEX, PAD_INDEX))
    return WordSpan(text, int(first), int(last), tuple(int(frame) for frame in character_frames),
                    tuple(int(index) for index in best[first:last + 1]), float(log_best[first:last + 1].sum()))


def saliency_maps(model, model_input: np.ndarray, frame_indices, class_indices) -> np.ndarray:
    """|∂ Σ log p(class_k at frame_k) / ∂ input|: how strongly each input pixel moves the chosen classes' summed
    log-probability (for a word's ``frames``/``classes``, that word's probability along the best path).

    Args:
        model: the LipNet Keras model (``LipReader.model``); run in inference mode (dropout off).
        model_input: (T, 46, 140, 1) float32 normalised mouth crop.
        frame_indices, class_indices: equal-length sequences of frame numbers (0..T-1) and class ids (0..40).

    Returns:
        (T, 46, 140) float32, non-negative: the absolute gradient. Absolute gradient rather than gradient×input
        because the input is normalised to mean zero over the clip: gradient×input vanishes on mid-grey skin and
        lights up whatever is darkest or brightest (the mouth opening, teeth), whatever the network does with it;
        the gradient alone shows sensitivity, and the rendering lays it over the picture anyway. Max-pooling sends
        each gradient to one of several equal inputs (common on a crop quantised to uint8), so the map is speckled
        pixel by pixel; smooth it before showing it.

    Raises:
        ClipError: ``model_input`` is not (T, 46, 140, 1). ValueError: the indices do not fit the clip.
    """
    model_input = np.asarray(model_input, dtype=np.float32)
    if model_input.ndim != 4 or model_input.shape[1:] != (MOUTH_HEIGHT, MOUTH_WIDTH, 1) or not len(model_input):
        raise ClipError(f"The model input must be (T, {MOUTH_HEIGHT}, {MOUTH_WIDTH}, 1) with T ≥ 1, "
                        f"got {model_input.shape}.")
    selection = class_weights(len(model_input), frame_indices, class_indices)
    step = _gradient_step(model, len(model_input))
    gradient = step(model_input[np.newaxis], selection)
    return np.abs(np.asarray(gradient, dtype=np.float32)[0, ..., 0])


def class_weights(num_frames: int, frame_indices, class_indices) -> np.ndarray:
    """(T, 41) float32 with 1 at each chosen (frame, class): the weights of the log-probabilities to sum."""
    frames = np.asarray(frame_indices, dtype=np.int64).ravel()
    classes = np.asarray(class_indices, dtype=np.int64).ravel()
    if len(frames) != len(classes) or not len(frames):
        raise ValueError(f"Need as many frames as classes, at least one: got {len(frames)} and {len(classes)}.")
    if frames.min() < 0 or frames.max() >= num_frames or classes.min() < 0 or classes.max() >= NUM_CLASSES:
        raise ValueError(f"Frames must be in 0..{num_frames - 1} and classes in 0..{NUM_CLASSES - 1}.")
    weights = np.zeros((num_frames, NUM_CLASSES), dtype=np.float32)
    np.add.at(weights, (frames, classes), 1.0)
    return weights


_steps_by_model: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_steps_lock = threading.Lock()


def _gradient_step(model, num_frames: int):
    """A ``tf.function`` (1, T, 46, 140, 1), (T, 41) → gradient, traced once per model and clip length.

    One trace per length, with a fixed signature: TF 2.21 computes wrong results in a graph relaxed to any length
    (see :func:`lipnet_core.model.use_compiled_step_for`). Traced, the gradient takes about half the time it
    takes eagerly. The step holds the model only weakly, so a dropped model (an adapted reader) is freed.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise LipNetError("Saliency maps need the TensorFlow backend: run with KERAS_BACKEND=tensorflow.")
    with _steps_lock:
        steps = _steps_by_model.setdefault(model, {})
        if num_frames not in steps:
            if len(steps) >= MAX_TRACED_LENGTHS:
                steps.pop(next(iter(steps)))
            steps[num_frames] = _trace_step(weakref.ref(model), num_frames)
        return steps[num_frames]


def _trace_step(model_reference, num_frames: int):
    import tensorflow as tf

    @tf.function(input_signature=[
        tf.TensorSpec((1, num_frames, MOUTH_HEIGHT, MOUTH_WIDTH, 1), tf.float32),
        tf.TensorSpec((num_frames, NUM_CLASSES), tf.float32),
    ])
    def step(batch, selection):
        with tf.GradientTape() as tape:
            tape.watch(batch)
            chosen = tf.reduce_sum(_log_probabilities(model_reference(), batch)[0] * selection)
        return tape.gradient(chosen, batch)

    return step


def _log_probabilities(model, batch):
    """(1, T, 46, 140, 1) → (1, T, 41) log-probabilities in inference mode. When the last layer is a softmax
    Dense (LipNet's), log-softmax of its logits: finite for every class, even one whose probability underflows to
    0 in float32 (where log(softmax) would give -inf and a NaN gradient)."""
    import keras
    import tensorflow as tf

    last = model.layers[-1]
    if isinstance(last, keras.layers.Dense) and last.activation is keras.activations.softmax:
        features = batch
        for layer in model.layers[:-1]:
            features = layer(features, training=False)
        return tf.nn.log_softmax(tf.matmul(features, last.kernel) + last.bias)
    return tf.math.log(tf.maximum(model(batch, training=False), 1e-12))
