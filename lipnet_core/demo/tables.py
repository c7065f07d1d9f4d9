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


LAYER_ROLES = {
    "Conv3D": "slides small 3-D filters over height, width and time: finds lip edges and how they move",
    "Activation": "keeps only the positive responses (ReLU), so the filters can combine non-linearly",
    "MaxPooling3D": "halves height and width (never time): coarser, cheaper features, every frame kept",
    "TimeDistributed": "lays each frame's feature maps out as one long vector",
    "Bidirectional": "two LSTMs read the frames forwards and backwards: each frame's guess uses its context",
    "Dropout": "in training only, zeroes half the values at random so no single feature is relied on",
    "Dense": "for each frame, one probability per class (softmax over 41 classes)",
}


def layer_role(layer_type: str) -> str:
    """What a layer of this type does in LipNet, in a phrase."""
    return LAYER_ROLES.get(layer_type, "")


@dataclass(frozen=True)
class ModelOverview:
    layers: pd.DataFrame  # name, type, what it does, output_shape, parameters
    total_parameters: int
    trainable_parameters: int
    input_shape: tuple
    output_shape: tuple


def model_overview(model, layer_rows: list[dict]) -> ModelOverview:
    """Totals and shapes of a built Keras model, with its layer table (from ``model.layer_table``) as a DataFrame."""
    trainable = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
    layers = pd.DataFrame(layer_rows, columns=["name", "type", "output_shape", "parameters"])
    layers.insert(2, "what it does", [layer_role(layer_type) for layer_type in layers["type"]])
    return ModelOverview(
        layers=layers,
        total_parameters=int(model.count_params()),
        trainable_parameters=trainable,
        input_shape=tuple(model.inputs[0].shape),
        output_shape=tuple(model.outputs[0].shape),
    )
