"""Loading the reference notebooks' TensorFlow checkpoint (tf.keras 2.x ``model.save_weights('models/checkpoint')``).

The checkpoint is three files: ``checkpoint`` (a small text index), ``checkpoint.index`` and
``checkpoint.data-00000-of-00001``. tf.keras stored each weight of a ``Sequential`` under the position of its layer
among the layers that have weights, e.g.::

    layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE                     Conv3D kernel (3, 3, 3, 1, 128)
    layer_with_weights-3/forward_layer/cell/recurrent_kernel/.ATTRIBUTES/...   BiLSTM forward (128, 512)
    optimizer/...  or  .../.OPTIMIZER_SLOT/...                                  Adam state, ignored

so the mapping onto our Keras 3 model is by that position and the variable's role (kernel, bias; for each
direction of a Bidirectional LSTM: kernel, recurrent_kernel, bias). Keras 3 keeps tf.keras' layouts (Conv3D
kernels D×H×W×in×out, LSTM gates i, f, c, o), so the arrays are assigned unchanged once every shape is checked.
"""

import re
from pathlib import Path

import keras
import numpy as np

from lipnet_core.errors import WeightsError

DOWNLOAD_COMMAND = "python -m lipnet_core download checkpoint"
DOWNLOAD_HINT = f"download it again with '{DOWNLOAD_COMMAND}'"
_VARIABLE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
_LAYER_PREFIX = "layer_with_weights-"
_DATA_SHARD = re.compile(r"\.data-\d{5}-of-\d{5}$")
_INDEX_LINE = re.compile(r'^\s*model_checkpoint_path:\s*"(.*)"\s*$', re.MULTILINE)


def find_checkpoint(directory: str | Path) -> Path | None:
    """The checkpoint prefix in ``directory`` or its ``models/`` folder, or None when there is none.

    Follows the ``checkpoint`` text index when it names a prefix that exists; otherwise takes ``checkpoint.index``,
    then the newest ``*.index`` file.
    """
    directory = Path(directory)
    for folder in (directory, directory / "models"):
        if not folder.is_dir():
            continue
        named = _prefix_from_text_index(folder / "checkpoint")
        if named is not None:
            return named
        if (folder / "checkpoint.index").is_file():
            return folder / "checkpoint"
        indexes = sorted(folder.glob("*.index"), key=lambda index: index.stat().st_mtime)
        if indexes:
            return indexes[-1].with_suffix("")
    return None


def checkpoint_prefix(path: str | Path) -> Path:
    """The prefix of the checkpoint at ``path``: a prefix, its directory, its ``.index`` or ``.data-…`` file."""
    path = Path(path)
    if path.is_dir():
        prefix = find_checkpoint(path)
        if prefix is None:
            raise WeightsError(
                f"No TensorFlow checkpoint in {path} (expected checkpoint.index and checkpoint.data-00000-of-00001): "
                f"download it with '{DOWNLOAD_COMMAND}' or pass --weights PATH."
            )
        return prefix
    if path.name.endswith(".index"):
        prefix = path.with_suffix("")
    elif _DATA_SHARD.search(path.name):
        prefix = path.with_name(_DATA_SHARD.sub("", path.name))
    else:
        prefix = path
    if _index_file(prefix).is_file():
        return prefix
    named = _prefix_from_text_index(path) if path.is_file() else None
    if named is not None:
        return named
    raise WeightsError(
        f"No TensorFlow checkpoint at {path} (expected {_index_file(prefix).name} and "
        f"{prefix.name}.data-00000-of-00001 beside it): download it with '{DOWNLOAD_COMMAND}' or pass --weights PATH."
    )


def load_legacy_checkpoint(model: keras.Model, path: str | Path) -> Path:
    """Assign the reference checkpoint at ``path`` to ``model`` (from ``build_model``); returns the prefix loaded.

    Nothing is assigned unless every weight is present with the right shape and readable. Raises WeightsError.
    """
    prefix = checkpoint_prefix(path)
    if not list(prefix.parent.glob(f"{prefix.name}.data-*")):
        raise WeightsError(
            f"The checkpoint {prefix} has no {prefix.name}.data-00000-of-00001 file beside it: {DOWNLOAD_HINT}."
        )
    reader = _open_reader(prefix)
    try:
        stored_shapes = {
            key.removesuffix(_VARIABLE_SUFFIX): tuple(shape)
            for key, shape in reader.get_variable_to_shape_map().items()
            if _is_layer_weight(key)
        }
    except Exception as error:  # the TensorFlow reader raises several OpError types for a damaged index
        raise WeightsError(f"{_index_file(prefix)} is damaged ({type(error).__name__}): {DOWNLOAD_HINT}.") from error

    targets = model_weight_keys(model)
    if len(stored_shapes) != len(targets):
        raise WeightsError(
            f"{prefix} is not a LipNet checkpoint: expected {len(targets)} weight arrays, found {len(stored_shapes)}; "
            f"{DOWNLOAD_HINT}."
        )
    for key, variable in targets:
        if key not in stored_shapes:
            raise WeightsError(f"{prefix} is not a LipNet checkpoint: it has no weight '{key}'; {DOWNLOAD_HINT}.")
        if stored_shapes[key] != tuple(variable.shape):
            raise WeightsError(
                f"{prefix} does not fit this model: '{key}' has shape {stored_shapes[key]}, the model needs "
                f"{tuple(variable.shape)}; {DOWNLOAD_HINT}."
            )

    arrays = {}
    for key, variable in targets:
        try:
            arrays[key] = np.asarray(reader.get_tensor(key + _VARIABLE_SUFFIX), dtype=variable.dtype)
        except Exception as error:  # a truncated or corrupt .data shard fails here, not when opening
            raise WeightsError(
                f"{prefix}.data-00000-of-00001 is truncated or corrupt ({type(error).__name__}): {DOWNLOAD_HINT}."
            ) from error
    for key, variable in targets:
        variable.assign(arrays[key])
    return prefix


def model_weight_keys(model: keras.Model) -> list[tuple[str, keras.Variable]]:
    """(checkpoint key without the ``/.ATTRIBUTES/VARIABLE_VALUE`` suffix, model variable) for every weight."""
    layers_with_weights = [layer for layer in model.layers if layer.weights]
    targets = []
    for position, layer in enumerate(layers_with_weights):
        stem = f"{_LAYER_PREFIX}{position}"
        if isinstance(layer, keras.layers.Bidirectional):
            for direction in ("forward_layer", "backward_layer"):
                cell = getattr(layer, direction).cell
                for role in ("kernel", "recurrent_kernel", "bias"):
                    targets.append((f"{stem}/{direction}/cell/{role}", getattr(cell, role)))
        else:
            targets.extend((f"{stem}/{variable.name}", variable) for variable in layer.weights)
    return targets


def _is_layer_weight(key: str) -> bool:
    return key.startswith(_LAYER_PREFIX) and key.endswith(_VARIABLE_SUFFIX) and ".OPTIMIZER_SLOT" not in key


def _open_reader(prefix: Path):
    import tensorflow as tf

    try:
        reader = tf.train.load_checkpoint(str(prefix))
    except Exception as error:  # NotFoundError, DataLossError, InvalidArgumentError, ...
        raise WeightsError(
            f"The checkpoint {prefix} cannot be read ({type(error).__name__}): {DOWNLOAD_HINT}."
        ) from error
    return reader


def _index_file(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".index")


def _prefix_from_text_index(text_index: Path) -> Path | None:
    """The prefix named by a ``checkpoint`` text index, when that prefix exists beside it (or at its absolute path)."""
    if not text_index.is_file() or text_index.stat().st_size > 64_000:
        return None
    try:
        match = _INDEX_LINE.search(text_index.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    if not match or not match.group(1):
        return None
    named = Path(match.group(1))
    for candidate in (text_index.parent / named, text_index.parent / named.name):
        if _index_file(candidate).is_file():
            return candidate
    return None
