"""Loading model weights: Keras 3 ``.weights.h5`` files, and the reference notebooks' TensorFlow checkpoint.

Every failure becomes one :class:`WeightsError` sentence naming the file and what to do.
"""

from pathlib import Path

import keras

from lipnet_core.errors import WeightsError


def configure_devices() -> None:
    """Use a GPU when TensorFlow sees one, with memory growth on; otherwise run on the CPU without complaint."""
    if keras.backend.backend() != "tensorflow":
        return
    try:
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            tf.config.experimental.set_memory_growth(gpu, True)
    except (ImportError, RuntimeError, ValueError):
        pass


def load_weights(model: keras.Model, path: str | Path) -> Path:
    """Load ``path`` into ``model``; returns the path loaded. Raises WeightsError with an actionable sentence."""
    path = Path(path)
    if path.suffix == ".h5":  # Keras 3 .weights.h5 (or a plain .h5); anything else is a TF checkpoint
        if not path.is_file():
            raise WeightsError(
                f"No weights file at {path}: train with 'python -m lipnet_training train' or pass --weights PATH."
            )
        try:
            model.load_weights(path)
        except Exception as error:  # h5py and Keras raise many types for a bad file
            raise WeightsError(
                f"{path} is not a LipNet weights file ({type(error).__name__}): re-download or retrain it."
            ) from error
        return path
    from lipnet_core.legacy_checkpoint import load_legacy_checkpoint

    return load_legacy_checkpoint(model, path)
