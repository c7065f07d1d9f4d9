"""Loading model weights: Keras 3 ``.weights.h5`` files, and the reference notebooks' TensorFlow checkpoint.

Every failure becomes one :class:`WeightsError` sentence naming the file and what to do.
"""

from pathlib import Path

import keras

from lipnet_core.errors import WeightsError

READ_MIRRORED_ATTRIBUTE = "lipnet_read_mirrored"  # a .weights.h5 file's root attribute: see mark_read_mirrored


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


def mark_read_mirrored(path: str | Path) -> None:
    """Note in a ``.weights.h5`` file that its network reads each clip and its mirror image and averages the two.

    Adaptation trains the head on both views of every clip, and reading both read new clips of the speaker better
    (docs/adaptation.md). The note travels with the file (a download, ``--weights``), unlike a file beside it."""
    import h5py

    with h5py.File(path, "a") as handle:
        handle.attrs[READ_MIRRORED_ATTRIBUTE] = True


def reads_mirrored(path: str | Path | None) -> bool:
    """Whether :func:`mark_read_mirrored` marked the weights file at ``path`` (False for any other file, or none)."""
    if path is None or Path(path).suffix != ".h5" or not Path(path).is_file():
        return False
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return bool(handle.attrs.get(READ_MIRRORED_ATTRIBUTE, False))
    except OSError:
        return False
