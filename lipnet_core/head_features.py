"""The network cut in two at its features: the convolutions (frozen, run once per clip) and the recurrent head.

Teaching the network a new face (:mod:`lipnet_core.adaptation`) and retraining the head of the published network
(``lipnet_training.head``) both train only the head on features computed once, so an epoch costs seconds on a CPU
instead of minutes through the 3D convolutions.
"""

import time
from pathlib import Path

import keras
import numpy as np

from lipnet_core.hoisted_lstm import HoistedBidirectionalLSTM
from lipnet_core.machine import CPUINFO, cpu_flags
from lipnet_core.model import use_compiled_step_for

FEATURE_LAYER = "time_distributed"  # the flattened convolutional features, one 6375-vector per frame
HEAD_LAYERS = ("bidirectional", "dropout", "bidirectional_1", "dropout_1", "dense")
GRID_FRAMES = 75


def clip_features(
    network: keras.Model, model_inputs, num_frames: int = GRID_FRAMES, batch_size: int = 1, bfloat16: bool = False
) -> np.ndarray:
    """(N, num_frames, 6375) float16: the convolutional features of each (T, 46, 140, 1) model input, cut to
    ``num_frames`` or padded with its last frame.

    With ``batch_size`` > 1 the inputs are padded with their last frame to ``num_frames`` first and run in batches
    (faster on a CPU; a padded frame's features then come from the convolutions, not a copy of the last frame's).
    With ``bfloat16`` the convolutions compute in bfloat16 (:func:`features_of`).
    """
    return features_through(features_of(network, bfloat16), model_inputs, num_frames, batch_size)


def features_through(
    feature_model: keras.Model, model_inputs, num_frames: int, batch_size: int, on_batch=None
) -> np.ndarray:
    """:func:`clip_features` with the network up to its features already cut out (:func:`features_of`), so that
    several lists of inputs share one copy of it. ``on_batch(count)``, if given, hears of each batch done."""
    compiled_steps, features = {}, []
    model_inputs = list(model_inputs)
    if batch_size > 1:
        model_inputs = [_fit_frames(model_input, num_frames) for model_input in model_inputs]
    for first in range(0, len(model_inputs), batch_size):
        batch = np.stack(model_inputs[first : first + batch_size])
        use_compiled_step_for(feature_model, "predict", batch.shape, compiled_steps)
        for per_frame in np.asarray(feature_model.predict_on_batch(batch), dtype=np.float16):
            features.append(_fit_frames(per_frame[:num_frames], num_frames))
        if on_batch is not None:
            on_batch(len(batch))
    return np.stack(features)


def features_of(network: keras.Model, bfloat16: bool = False) -> keras.Model:
    """The network up to its features. With ``bfloat16``, a copy of those layers that multiplies in bfloat16 (the
    weights stay float32): on a CPU with bfloat16 instructions (:func:`cpu_has_bfloat16`) the convolutions take half
    the time, and the features hardly differ (correlation 0.999998 with float32's on four clips of speaker 4)."""
    features = keras.Model(network.inputs, network.get_layer(FEATURE_LAYER).output)
    if not bfloat16:
        return features

    def in_bfloat16(layer):
        return type(layer).from_config({**layer.get_config(), "dtype": "mixed_bfloat16"})

    copy = keras.models.clone_model(features, clone_function=in_bfloat16)
    copy.set_weights(features.get_weights())
    return copy


def fastest_features_of(
    network: keras.Model, model_inputs: list, num_frames: int = GRID_FRAMES
) -> tuple[keras.Model, bool, np.ndarray]:
    """The network up to its features (:func:`features_of`) in the faster precision on this machine, whether that is
    bfloat16, and the features of ``model_inputs`` (one batch) computed with it.

    bfloat16 is tried only where the CPU multiplies it natively (:func:`cpu_has_bfloat16`), and then ``model_inputs``
    are timed once each way, since the flags alone do not tell (scripts/benchmark_training.py: an Intel Xeon with
    AVX-512 BF16 but no AMX trained the whole network faster in float32). The winner's features are returned, so the
    timing costs one pass of the loser only.
    """
    candidates = (False, True) if cpu_has_bfloat16() else (False,)
    timed = []
    for bfloat16 in candidates:
        feature_model = features_of(network, bfloat16)
        started = time.perf_counter()
        features = features_through(feature_model, model_inputs, num_frames, len(model_inputs))
        timed.append((time.perf_counter() - started, feature_model, bfloat16, features))
    _, feature_model, bfloat16, features = min(timed, key=lambda trial: trial[0])
    return feature_model, bfloat16, features


def cpu_has_bfloat16(cpuinfo: str | Path = CPUINFO) -> bool:
    """Whether this machine's CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX); elsewhere bfloat16 is
    emulated and slower than float32. False where the file is missing (not Linux)."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags(cpuinfo))


def _fit_frames(array: np.ndarray, num_frames: int) -> np.ndarray:
    """(T, ...) → (num_frames, ...): cut, or padded by repeating the last frame (a still mouth)."""
    array = array[:num_frames]
    return np.pad(array, [(0, num_frames - len(array))] + [(0, 0)] * (array.ndim - 1), mode="edge")


def head_of(network: keras.Model, feature_size: int, feature_dropout: float = 0.0) -> keras.Model:
    """The network's own head layers behind a Dropout on the features, for training on features computed once.

    The layers' variables are shared, so training the head trains the network. Each BiLSTM runs hoisted
    (:class:`~lipnet_core.hoisted_lstm.HoistedBidirectionalLSTM`): the same arithmetic as the layer's own, with the
    input product out of the time loop, which makes a training step more than twice as fast on a CPU.
    """

    def hoisted(layer):
        if isinstance(layer, keras.layers.Bidirectional):
            return HoistedBidirectionalLSTM(layer, name=layer.name)
        return layer

    return keras.Sequential(
        [keras.Input((None, feature_size)), keras.layers.Dropout(feature_dropout, name="feature_dropout")]
        + [hoisted(network.get_layer(name)) for name in HEAD_LAYERS]
    )
