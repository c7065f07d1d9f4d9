"""Keep TensorFlow's native start-up chatter (oneDNN notice, CUDA probing) off the command line's stderr.

Those lines come from C++ before Python logging exists, and ``TF_CPP_MIN_LOG_LEVEL`` no longer stops them all, so
file descriptor 2 is pointed at /dev/null while TensorFlow loads and probes its devices. Our own messages, and
anything printed after start-up, are untouched.
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def native_stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def load_backend_quietly() -> None:
    """Import Keras (and TensorFlow under it) and let it probe for GPUs with stderr silenced."""
    with native_stderr_silenced():
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")
