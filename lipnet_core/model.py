"""The LipNet network exactly as the reference notebooks built it, in backend-agnostic Keras 3.

Input (T, 46, 140, 1) float32 → per-frame class probabilities (T, 41). T is 75 for GRID clips; ``num_frames=None``
builds the same weights for any length (the convolutions and LSTMs are length-agnostic).
"""

import keras
from keras import layers

from lipnet_core.crop_box import MOUTH_HEIGHT, MOUTH_WIDTH
from lipnet_core.vocabulary import NUM_CLASSES

GRID_NUM_FRAMES = 75
REFERENCE_PARAMETER_COUNT = 8_471_924
REFERENCE_DROPOUT = 0.5


def build_model(num_frames: int | None = GRID_NUM_FRAMES) -> keras.Sequential:
    """Conv3D(128/256/75, 3×3×3, same) + ReLU + MaxPool3D(1,2,2) ×3 → TimeDistributed(Flatten) → 2 × BiLSTM(128)
    with Dropout(0.5) → Dense(41, softmax). 8,471,924 parameters.

    Layer names match what the reference's ``Sequential`` generated, so summaries read the same. The softmax layer
    always computes in float32 so mixed-precision training feeds the CTC loss full-precision probabilities.
    """
    model = keras.Sequential(name="lipnet")
    model.add(keras.Input(shape=(num_frames, MOUTH_HEIGHT, MOUTH_WIDTH, 1), name="mouth_frames"))
    for index, filters in enumerate((128, 256, 75)):
        suffix = f"_{index}" if index else ""
        model.add(layers.Conv3D(filters, 3, padding="same", name=f"conv3d{suffix}"))
        model.add(layers.Activation("relu", name=f"activation{suffix}"))
        model.add(layers.MaxPooling3D((1, 2, 2), name=f"max_pooling3d{suffix}"))
    model.add(layers.TimeDistributed(layers.Flatten(), name="time_distributed"))
    for index in range(2):
        suffix = f"_{index}" if index else ""
        lstm = layers.LSTM(128, kernel_initializer="orthogonal", return_sequences=True)
        model.add(layers.Bidirectional(lstm, name=f"bidirectional{suffix}"))
        model.add(layers.Dropout(REFERENCE_DROPOUT, name=f"dropout{suffix}"))
    model.add(
        layers.Dense(NUM_CLASSES, kernel_initializer="he_normal", activation="softmax", dtype="float32", name="dense")
    )
    return model


def layer_table(model: keras.Model) -> list[dict]:
    """One row per layer: name, type, output shape and parameter count (what ``model.summary()`` prints)."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape) if hasattr(layer, "output") else None
        rows.append(
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "output_shape": str(shape).replace("None", "batch") if shape else "",
                "parameters": int(layer.count_params()),
            }
        )
    return rows


MAX_COMPILED_SHAPES = 16


def use_compiled_step_for(model: keras.Model, kind: str, batch_shape: tuple, compiled_steps: dict) -> bool:
    """Give each input shape its own compiled ``train`` or ``predict`` step (TensorFlow backend).

    Keras traces one ``tf.function`` per step and relaxes it to a dynamic time axis when a second length arrives.
    With TF 2.21 the relaxed graph is wrong: predicting a 74-frame clip after a 75-frame one returns (1, 1, 41),
    and the CTC training loss becomes a constant ~711 per batch (both seen here; the graph optimiser logs
    "tfg.While ... not compatible"). One trace per shape avoids it. Under JAX every shape is compiled separately
    anyway, so this does nothing there. Returns whether the step is a new one (traced at its first call).
    """
    if keras.backend.backend() != "tensorflow":
        return False
    key = (kind, tuple(batch_shape))
    new = key not in compiled_steps
    if new:
        if len(compiled_steps) >= MAX_COMPILED_SHAPES:
            compiled_steps.pop(next(iter(compiled_steps)))
        getattr(model, f"make_{kind}_function")(force=True)
        compiled_steps[key] = getattr(model, f"{kind}_function")
    setattr(model, f"{kind}_function", compiled_steps[key])
    return new
