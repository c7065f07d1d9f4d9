"""Loading weights: the reference's tf.keras TensorFlow checkpoint and Keras 3 ``.weights.h5`` files.

The reference model is rebuilt with legacy Keras 2 (``tf_keras``), exactly as the notebooks did, given random
weights and saved with ``save_weights('models/checkpoint')``; our Keras 3 model must then compute the same outputs.
"""

import os
import shutil

import keras
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lipnet_core.errors import WeightsError  # noqa: E402
from lipnet_core.legacy_checkpoint import checkpoint_prefix, find_checkpoint  # noqa: E402
from lipnet_core.model import build_model  # noqa: E402
from lipnet_core.weights import load_weights  # noqa: E402

tf_keras = pytest.importorskip("tf_keras")

CHECKPOINT_FILES = ("checkpoint", "checkpoint.index", "checkpoint.data-00000-of-00001")


def reference_model(num_classes=41):
    """The notebooks' Sequential, layer for layer, in tf.keras 2."""
    layers = tf_keras.layers
    model = tf_keras.Sequential()
    model.add(layers.Conv3D(128, 3, input_shape=(75, 46, 140, 1), padding="same"))
    model.add(layers.Activation("relu"))
    model.add(layers.MaxPool3D((1, 2, 2)))
    for filters in (256, 75):
        model.add(layers.Conv3D(filters, 3, padding="same"))
        model.add(layers.Activation("relu"))
        model.add(layers.MaxPool3D((1, 2, 2)))
    model.add(layers.TimeDistributed(layers.Flatten()))
    for _ in range(2):
        model.add(layers.Bidirectional(layers.LSTM(128, kernel_initializer="Orthogonal", return_sequences=True)))
        model.add(layers.Dropout(0.5))
    model.add(layers.Dense(num_classes, kernel_initializer="he_normal", activation="softmax"))
    return model


def randomise(model, seed):
    """Every weight random (biases included), so a swapped or skipped array changes the outputs."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, 0.05, weight.shape).astype("float32") for weight in model.get_weights()])


def save_reference_checkpoint(directory, num_classes=41, seed=0):
    model = reference_model(num_classes)
    randomise(model, seed)
    model.save_weights(str(directory / "models" / "checkpoint"))
    return model


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """(tf_keras model, its checkpoint prefix models/checkpoint)."""
    directory = tmp_path_factory.mktemp("reference")
    model = save_reference_checkpoint(directory)
    return model, directory / "models" / "checkpoint"


@pytest.fixture(scope="module")
def mouth_clip():
    return np.random.default_rng(1).uniform(-1.0, 1.0, (1, 75, 46, 140, 1)).astype("float32")


def probabilities(model, clip):
    return keras.ops.convert_to_numpy(model(clip, training=False))


def test_reference_checkpoint_gives_the_reference_outputs(reference, mouth_clip):
    reference_model_, prefix = reference
    assert sorted(path.name for path in prefix.parent.iterdir()) == sorted(CHECKPOINT_FILES)
    expected = reference_model_(mouth_clip, training=False).numpy()
    model = build_model(num_frames=None)
    before = probabilities(model, mouth_clip)

    assert load_weights(model, prefix) == prefix
    loaded = probabilities(model, mouth_clip)

    assert loaded.shape == (1, 75, 41)
    assert np.abs(before - expected).max() > 1e-3  # the comparison below can tell weights apart
    assert expected.std(axis=-1).mean() > 1e-3  # not a flat softmax either
    np.testing.assert_allclose(loaded, expected, atol=1e-5)


def test_checkpoint_is_found_from_its_directory_index_or_data_file(reference, tmp_path):
    _, prefix = reference
    models = prefix.parent
    assert find_checkpoint(models) == prefix
    assert find_checkpoint(models.parent) == prefix  # the folder that holds models/
    assert checkpoint_prefix(models) == prefix
    assert checkpoint_prefix(models / "checkpoint.index") == prefix
    assert checkpoint_prefix(models / "checkpoint.data-00000-of-00001") == prefix
    assert find_checkpoint(tmp_path) is None


def test_missing_checkpoint_names_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "checkpoint"
    with pytest.raises(WeightsError, match=r"No TensorFlow checkpoint at .*nowhere.*download checkpoint"):
        load_weights(build_model(), missing)
    with pytest.raises(WeightsError, match=r"No TensorFlow checkpoint in .*"):
        load_weights(build_model(), tmp_path)


def test_truncated_data_file_is_a_weights_error(reference, tmp_path):
    _, prefix = reference
    for name in CHECKPOINT_FILES:
        shutil.copy(prefix.parent / name, tmp_path / name)
    data_file = tmp_path / "checkpoint.data-00000-of-00001"
    data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 2])
    model = build_model()
    before = model.get_weights()

    with pytest.raises(WeightsError) as caught:
        load_weights(model, tmp_path / "checkpoint")

    message = str(caught.value)
    assert str(tmp_path / "checkpoint") in message and "truncated or corrupt" in message and "\n" not in message
    for kept, initial in zip(model.get_weights(), before):
        np.testing.assert_array_equal(kept, initial)  # nothing half-loaded


def test_missing_data_file_is_a_weights_error(reference, tmp_path):
    _, prefix = reference
    for name in CHECKPOINT_FILES[:2]:
        shutil.copy(prefix.parent / name, tmp_path / name)
    with pytest.raises(WeightsError, match=r"checkpoint has no checkpoint\.data-00000-of-00001 file beside it"):
        load_weights(build_model(), tmp_path / "checkpoint")


def test_corrupt_index_file_is_a_weights_error(reference, tmp_path):
    _, prefix = reference
    shutil.copy(prefix.parent / CHECKPOINT_FILES[2], tmp_path / CHECKPOINT_FILES[2])
    (tmp_path / "checkpoint.index").write_bytes(np.random.default_rng(5).bytes(4096))
    with pytest.raises(WeightsError, match=r"checkpoint .*checkpoint (cannot be read|\.index is damaged)"):
        load_weights(build_model(), tmp_path / "checkpoint.index")


def test_checkpoint_of_another_model_is_refused_with_the_mismatch(tmp_path):
    save_reference_checkpoint(tmp_path, num_classes=30)
    prefix = tmp_path / "models" / "checkpoint"
    with pytest.raises(WeightsError) as caught:
        load_weights(build_model(), prefix)
    message = str(caught.value)
    assert str(prefix) in message
    assert "'layer_with_weights-5/kernel' has shape (256, 30), the model needs (256, 41)" in message


def test_checkpoint_with_too_few_weights_is_not_a_lipnet_checkpoint(tmp_path):
    small = tf_keras.Sequential([tf_keras.layers.Dense(4, input_shape=(3,))])
    small.save_weights(str(tmp_path / "checkpoint"))
    with pytest.raises(WeightsError, match=r"is not a LipNet checkpoint: expected 20 weight arrays, found 2"):
        load_weights(build_model(), tmp_path / "checkpoint")


def test_corrupt_weights_h5_names_the_file(tmp_path):
    corrupt = tmp_path / "lipnet.weights.h5"
    corrupt.write_bytes(np.random.default_rng(2).bytes(4096))
    with pytest.raises(WeightsError, match=r"lipnet\.weights\.h5 is not a LipNet weights file"):
        load_weights(build_model(), corrupt)


def test_weights_h5_round_trip(tmp_path):
    saved = build_model(num_frames=None)
    randomise(saved, seed=3)
    path = tmp_path / "lipnet.weights.h5"
    saved.save_weights(path)
    loaded = build_model(num_frames=None)
    short_clip = np.random.default_rng(4).uniform(-1.0, 1.0, (1, 12, 46, 140, 1)).astype("float32")

    assert load_weights(loaded, path) == path
    np.testing.assert_array_equal(probabilities(loaded, short_clip), probabilities(saved, short_clip))
