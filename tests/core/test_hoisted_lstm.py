"""The head trained on features: its hoisted BiLSTMs compute exactly what the network's own layers compute."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lipnet_core.head_features import HEAD_LAYERS, head_of
from lipnet_core.hoisted_lstm import HoistedBidirectionalLSTM
from lipnet_core.model import build_model

FEATURES = 6375

pytestmark = pytest.mark.slow  # builds the network


@pytest.fixture(scope="module")
def network():
    return build_model(None)


@pytest.fixture(scope="module")
def heads(network):
    """(the head as adaptation trains it, the network's own head layers unchanged)."""
    plain = keras.Sequential([keras.Input((None, FEATURES))] + [network.get_layer(name) for name in HEAD_LAYERS])
    return head_of(network, FEATURES), plain


def features(clips=3, frames=20):
    return np.random.default_rng(0).standard_normal((clips, frames, FEATURES)).astype(np.float32)


def test_head_of_runs_each_bilstm_hoisted_on_the_networks_own_variables(network, heads):
    head, plain = heads
    assert [type(layer) for layer in head.layers if "bidirectional" in layer.name] == [HoistedBidirectionalLSTM] * 2
    assert len({id(variable) for variable in head.trainable_weights}) == len(head.trainable_weights) == 14
    assert {id(variable) for variable in head.trainable_weights} == {id(v) for v in plain.trainable_weights}


def test_hoisted_head_reads_and_learns_as_the_networks_layers(heads):
    head, plain = heads
    frames = features()
    np.testing.assert_allclose(head(frames), plain(frames), atol=1e-5)

    def gradients(model):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.math.log(model(frames, training=False) + 1e-3) * np.linspace(0, 1, 41))
        return tape.gradient(loss, plain.trainable_weights)

    for hoisted, own in zip(gradients(head), gradients(plain), strict=True):
        own = np.asarray(own)
        assert np.abs(own).max() > 0
        np.testing.assert_allclose(hoisted, own, atol=1e-5 * np.abs(own).max())


def test_training_the_hoisted_head_trains_the_network(network):
    head = head_of(network, FEATURES)
    before = network.get_layer("bidirectional").get_weights()
    head.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    head.train_on_batch(features(2, 10), np.zeros((2, 10, 41), np.float32))
    after = network.get_layer("bidirectional").get_weights()
    assert all(not np.array_equal(old, new) for old, new in zip(before, after))


def test_an_lstm_with_dropout_inside_is_refused():
    layer = keras.layers.Bidirectional(keras.layers.LSTM(4, dropout=0.2, return_sequences=True))
    layer.build((None, 5, 3))
    with pytest.raises(ValueError, match="dropout"):
        HoistedBidirectionalLSTM(layer)
