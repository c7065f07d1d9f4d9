"""Tables for Try it out and Architecture: one clip's scores per decoder, its probabilities for a heat map, and the
layers of the network."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lipnet_core.metrics import character_error_rate, word_error_rate


def clip_scores(reference: str | None, decodings: dict) -> pd.DataFrame:
    """One row per decoder: its sentence, token ids and, when a reference exists, that clip's WER and CER."""
    rows = []
    for name, decoded in decodings.items():
        row = {"decoder": name, "sentence": decoded.text, "token ids": " ".join(map(str, decoded.tokens))}
        if reference is not None:
            row["WER"] = word_error_rate(reference, decoded.text)
            row["CER"] = character_error_rate(reference, decoded.text)
        rows.append(row)
    return pd.DataFrame(rows)


def probability_table(class_probabilities: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """(T, C) probabilities → a long table (frame, class, order, probability) for a heat map."""
    num_frames, num_classes = class_probabilities.shape
    if len(labels) != num_classes:
        raise ValueError(f"{len(labels)} labels for {num_classes} classes")
    return pd.DataFrame(
        {
            "frame": np.repeat(np.arange(num_frames), num_classes),
            "class": np.tile(np.asarray(labels, dtype=object), num_frames),
            "order": np.tile(np.arange(num_classes), num_frames),
            "probability": np.asarray(class_probabilities, dtype=np.float32).ravel(),
        }
    )


@dataclass(frozen=True)
class ModelOverview:
    layers: pd.DataFrame  # name, type, output_shape, parameters
    total_parameters: int
    trainable_parameters: int
    input_shape: tuple
    output_shape: tuple


def model_overview(model, layer_rows: list[dict]) -> ModelOverview:
    """Totals and shapes of a built Keras model, with its layer table (from ``model.layer_table``) as a DataFrame."""
    trainable = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
    return ModelOverview(
        layers=pd.DataFrame(layer_rows, columns=["name", "type", "output_shape", "parameters"]),
        total_parameters=int(model.count_params()),
        trainable_parameters=trainable,
        input_shape=tuple(model.inputs[0].shape),
        output_shape=tuple(model.outputs[0].shape),
    )
