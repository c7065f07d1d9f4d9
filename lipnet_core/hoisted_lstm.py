"""A trained Bidirectional LSTM run with its input multiplication taken out of the time loop.

Keras' LSTM (without cuDNN, so on every CPU) multiplies each frame's input by the kernel inside its loop over time:
for the first BiLSTM of LipNet that is 75 small products of (batch × 6375) by (6375 × 512) per direction, each
reading the whole 13 MB kernel. Multiplying every frame at once before the loop is the same arithmetic as one large
product, which a CPU does far faster: a training step of the head on 8 clips took 0.40 s instead of 0.86 s on a
2-core AVX2 machine (``scripts/benchmark_adaptation.py``, as a graph). Only the recurrent product ``h · U`` stays in
the loop.

:class:`HoistedBidirectionalLSTM` holds no weights of its own: it computes with the given layer's variables, so
training it trains the network that layer belongs to, and the network is saved as before.
"""

import keras
from keras import layers, ops


class _RecurrentStep(keras.layers.Layer):
    """One LSTM step fed the frame's already multiplied input ``x · W + b``: adds ``h · U``, then the gates as
    Keras' ``LSTMCell`` computes them (input, forget, cell, output; ``implementation=2``)."""

    def __init__(self, cell: layers.LSTMCell, **kwargs):
        super().__init__(**kwargs)
        if cell.dropout or cell.recurrent_dropout:
            raise ValueError("a hoisted LSTM computes without dropout inside the cell")
        self.cell = cell
        self.state_size = [cell.units, cell.units]
        self.output_size = cell.units

    def call(self, projected_input, states, training=False):
        previous_output, previous_carry = states
        cell, units = self.cell, self.cell.units
        z = projected_input + ops.matmul(previous_output, cell.recurrent_kernel)
        input_gate = cell.recurrent_activation(z[:, :units])
        forget_gate = cell.recurrent_activation(z[:, units : 2 * units])
        carry = forget_gate * previous_carry + input_gate * cell.activation(z[:, 2 * units : 3 * units])
        output = cell.recurrent_activation(z[:, 3 * units :]) * cell.activation(carry)
        return output, [output, carry]


class HoistedBidirectionalLSTM(keras.layers.Layer):
    """``bidirectional`` (a ``Bidirectional(LSTM(..., return_sequences=True))`` with its outputs concatenated) with
    each direction's input product done for all frames at once. Same outputs to float32 rounding."""

    def __init__(self, bidirectional: layers.Bidirectional, **kwargs):
        super().__init__(**kwargs)
        if bidirectional.merge_mode != "concat" or not bidirectional.return_sequences:
            raise ValueError("a hoisted BiLSTM returns every frame's outputs, concatenated")
        self.bidirectional = bidirectional
        self.forward_loop = layers.RNN(_RecurrentStep(bidirectional.forward_layer.cell), return_sequences=True)
        self.backward_loop = layers.RNN(_RecurrentStep(bidirectional.backward_layer.cell), return_sequences=True)

    def call(self, frames, training=False):
        forward_cell = self.bidirectional.forward_layer.cell
        backward_cell = self.bidirectional.backward_layer.cell
        forward = self.forward_loop(ops.matmul(frames, forward_cell.kernel) + forward_cell.bias)
        backward_input = ops.flip(ops.matmul(frames, backward_cell.kernel) + backward_cell.bias, axis=1)
        backward = ops.flip(self.backward_loop(backward_input), axis=1)
        return ops.concatenate([forward, backward], axis=-1)

    def compute_output_shape(self, input_shape):
        return self.bidirectional.compute_output_shape(input_shape)
