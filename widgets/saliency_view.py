"""Where the network looks: pick a word the network read, and see which pixels of the mouth move its probability.

A page calls :func:`saliency_section` under a reading. The gradient is computed only on request (a few seconds on
a CPU), cached per weights, clip and word for every session, and kept in the session while it is shown.
"""

import hashlib
import time
from pathlib import Path

import numpy as np
import streamlit as st

from lipnet_core.demo.rendering import saliency_gif, saliency_strip, strip_frame_indices
from lipnet_core.errors import LipNetError
from lipnet_core.saliency import WordSpan, saliency_maps, sentence_span, word_spans

WORD_MARGIN_FRAMES = 3
SURE_PROBABILITY = 0.99  # above it the word's log-probability is flat: its gradient is tiny everywhere


@st.cache_data(show_spinner=False, max_entries=16)
def _saliency_pictures(_model, weights_key: str, model_input: np.ndarray, frames: tuple, classes: tuple,
                       strip_frames: tuple) -> dict:
    started = time.perf_counter()
    saliency = saliency_maps(_model, model_input, frames, classes)
    gradient_seconds = time.perf_counter() - started
    return {
        "gif": saliency_gif(model_input, saliency),
        "strip": saliency_strip(model_input, saliency, strip_frames),
        "gradient_seconds": gradient_seconds,
        "seconds": time.perf_counter() - started,
        "computed_at": time.time(),
    }


def _weights_key(reader) -> str:
    path = reader.weights_path
    try:
        return f"{path}:{Path(path).stat().st_mtime_ns}"
    except (OSError, TypeError):
        return f"{path}:{id(reader.model)}"


def _label(span: WordSpan, position: int) -> str:
    if position == 0:
        return f"the whole sentence: “{span.text}”"
    return f"word {position}: “{span.text}” (frames {span.first_frame}–{span.last_frame})"


def saliency_section(reader, reading, key: str) -> None:
    """A word picker, a button, and on click the crop with the gradient of that word's probability over it.

    Args:
        reader: the :class:`~lipnet_core.reader.LipReader` that made ``reading`` (its ``.model`` is differentiated).
        reading: a :class:`~lipnet_core.reader.Reading` with ``model_input`` (T, 46, 140, 1) and
            ``class_probabilities`` (T, 41).
        key: a prefix for this section's widget keys, unique on the page.
    """
    st.subheader("Where the network looks")
    if not reading.trained:
        st.info("Where the network looks needs trained weights: with random weights its words, and the pixels "
                "behind them, mean nothing.", icon=":material/info:")
        return
    words = word_spans(reading.class_probabilities)
    if not words:
        st.info("The network's best path emits no word for this clip (every frame's most likely class is the blank "
                "or a space), so there is no word to trace back to the pixels.", icon=":material/info:")
        return

    spans = [sentence_span(reading.class_probabilities), *words]
    chosen = st.selectbox("Word", range(len(spans)), format_func=lambda position: _label(spans[position], position),
                          key=f"{key}_word")
    span = spans[chosen]
    weights_key = _weights_key(reader)
    # The uint8 crop names the clip (the network's input is computed from it) at a quarter of the bytes to hash.
    clip_digest = hashlib.blake2b(np.ascontiguousarray(reading.mouth_frames).tobytes(), digest_size=8).hexdigest()
    shown_key, selection = f"{key}_shown", (weights_key, clip_digest, chosen, span.text)

    if st.button("Show where it looks", key=f"{key}_button", icon=":material/visibility:"):
        num_frames = len(reading.mouth_frames)
        margin = 0 if chosen == 0 else WORD_MARGIN_FRAMES
        strip_frames = tuple(strip_frame_indices(span.first_frame, span.last_frame, num_frames, margin))
        asked_at = time.time()
        try:
            with st.spinner(f"Following “{span.text}” back to the pixels…"):
                pictures = _saliency_pictures(reader.model, weights_key, reading.model_input, span.frames,
                                              span.classes, strip_frames)
        except LipNetError as error:
            st.error(str(error))
            return
        st.session_state[shown_key] = (selection, pictures, pictures["computed_at"] < asked_at)

    shown = st.session_state.get(shown_key)
    if shown is None or shown[0] != selection:
        return
    _, pictures, from_cache = shown
    gif_column, strip_column = st.columns([2, 3])
    gif_column.image(pictures["gif"], width="stretch")
    strip_column.image(pictures["strip"], width="stretch")
    timing = (f"computed in {pictures['seconds']:.1f} s (gradient {pictures['gradient_seconds']:.1f} s)"
              + (", shown from the cache" if from_cache else ""))
    what = "the whole sentence" if chosen == 0 else "that word"
    probability = float(np.exp(span.log_probability))
    sure = (f" The network is all but sure of {what} (p ≥ {SURE_PROBABILITY}), so no small change moves its "
            "probability much: these colours are faint gradients scaled up." if probability >= SURE_PROBABILITY else "")
    strip_says = ("frames across the clip" if chosen == 0
                  else f"the word's frames and up to {WORD_MARGIN_FRAMES} either side")
    shown_probability = f"{probability:.2f}" if probability >= 0.01 else f"{probability:.0e}"
    st.caption(f"Colour: how much each input pixel moves the log-probability of “{span.text}” along the best path "
               f"(p = {shown_probability}; absolute gradient, smoothed, scaled over the clip). Brighter (yellow) = "
               f"pixels whose change would change {what}'s probability most; grey = little effect.{sure} "
               f"Right: {strip_says}. {timing[0].upper()}{timing[1:]}.")
