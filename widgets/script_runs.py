"""What Streamlit does after every script run, made cheap for a server that holds a Keras network.

After each run of any session Streamlit (1) calls ``keras.backend.clear_session()`` whenever Keras is imported
(``script_runner._clean_problem_modules``, for apps that build a model on every run) and (2) runs a full
``gc.collect(2)`` (``runner.postScriptGC``). Each full collection walks every object the process holds: with
TensorFlow, Keras and the network loaded about 384,000, 0.18 s a time on this project's CPU. ``py-spy`` on the server,
while 20 sessions each asked for a GRID clip at once, found the two collections in 925 of its 1,401 samples (66%).

- This app builds its networks once per server (``st.cache_resource``) and names every layer, so clearing the Keras
  session does nothing for it but that collection and an emptied TensorFlow kernel cache, from a script thread while
  another may be reading: it is turned off.
- The collection after each run is kept (without it garbage from each run, decoded frames and GIF bytes in reference
  cycles, piled up: the server's peak memory with a class of 20 went from +0.2 GB to +1.3–1.6 GB over its start), but
  made cheap: once the network is loaded and warmed up, everything alive is frozen out of the collector's reach
  (``gc.freeze()``: the long-lived model, TensorFlow and library objects), so a collection walks only what the runs
  made since.
"""

import gc
import sys

from streamlit.runtime.scriptrunner import script_runner


def _close_matplotlib_figures() -> None:
    """The rest of what Streamlit's own clean-up does (this app draws no matplotlib figures; kept for parity)."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def keep_keras_session_between_runs() -> None:
    """Stop Streamlit clearing the Keras session after each script run (idempotent; a no-op if Streamlit no longer
    has the hook)."""
    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = _close_matplotlib_figures


def freeze_long_lived_objects() -> None:
    """Move every object alive now out of the garbage collector's sight (``gc.freeze``). Call it when what is alive
    will live as long as the server: after the network is loaded, and after its warm-up."""
    gc.collect()
    gc.freeze()


def collect_frozen_garbage() -> None:
    """Give the frozen objects back to the collector, collect, and freeze again what is still alive.

    Freezing cannot tell the server's long-lived objects from what sessions hold at that moment: the first pupils'
    pages are open while the network loads and warms up, so their session state is frozen too, and a frozen object
    is never collected. Once such sessions have ended, only this frees them. It is a full collection (0.2 s with the
    network loaded): call it rarely, as widgets/closed_sessions does after shutting closed sessions down."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
