"""What the server shares between sessions, loaded once: the published network, the adaptation queue, and the few
adapted networks in use (bounded, so a full class cannot fill the memory)."""

import threading

import streamlit as st

from lipnet_core.dataset import data_dir
from lipnet_core.demo.job_queue import JobQueue, RecentResults
from lipnet_core.demo.views import WeightsChoice, open_reader, warm_up_clip, warm_up_live_reading
from widgets.closed_sessions import start_closed_session_sweeper
from widgets.script_runs import freeze_long_lived_objects


def _warm_up(reader) -> None:
    warm_up_live_reading(reader, warm_up_clip(data_dir()))
    freeze_long_lived_objects()  # the trace and the face detector live as long as the server


@st.cache_resource(show_spinner="Loading the LipNet model (once per server)…")
def _reader_for(_choice: WeightsChoice, weights_key: str):
    reader = open_reader(_choice)
    freeze_long_lived_objects()  # so the collection after each script run does not walk the network (script_runs)
    reading_queue().submit(lambda progress: _warm_up(reader), timed=False)  # in the background
    return reader


def published_reader(choice: WeightsChoice):
    """The published (or ``$LIPNET_WEIGHTS``) network, one per server and weights file. Raises WeightsError."""
    return _reader_for(choice, choice.cache_key)


@st.cache_resource(show_spinner=False, max_entries=2)
def _precomputed_for(weights_path: str, weights_key: str):
    from lipnet_core.paths import file_sha256
    from lipnet_core.precomputed import readings_for_weights

    return readings_for_weights(file_sha256(weights_path))


def precomputed_readings(choice: WeightsChoice):
    """The stored network outputs of every GRID clip for these weights (``python -m lipnet_core precompute``), or
    None when there are none. Raises LipNetError when the file is damaged."""
    if not choice.path.is_file():
        return None
    return _precomputed_for(str(choice.path), choice.cache_key)


@st.cache_resource(show_spinner=False)
def adaptation_queue() -> JobQueue:
    """Adaptations, one at a time for the whole server."""
    return JobQueue("lipnet-adaptation", "adaptation")


RECENT_VIEWS_BYTES = 128 * 2**20


@st.cache_resource(show_spinner=False)
def recent_views() -> RecentResults:
    """Clips made ready to show (Try it out), shared by all sessions; bounded in number and in bytes (a GRID clip's
    view holds about 2 MB: its GIF, video, frames and crop; an upload's can hold more)."""
    return RecentResults(max_entries=48, max_bytes=RECENT_VIEWS_BYTES, size_of=lambda view: view.nbytes)


@st.cache_resource(show_spinner=False)
def view_slots() -> threading.BoundedSemaphore:
    """At most two clips made ready at once (video decoded, mouth cut, GIF written): a class asking together waits
    a moment in turn instead of holding twenty decoded videos in memory at the same time."""
    return threading.BoundedSemaphore(2)


@st.cache_resource(show_spinner=False)
def reading_queue() -> JobQueue:
    """Live readings (uploads, and clips without stored outputs), one at a time for the whole server."""
    return JobQueue("lipnet-reading", "reading")


@st.cache_resource(show_spinner="Loading your adapted network…", max_entries=4, ttl=3600)
def adapted_reader(weights_path: str, modified_ns: int):
    """A session's adapted network (``modified_ns`` makes a new adaptation of the same session load afresh)."""
    from lipnet_core.reader import LipReader

    return LipReader(weights=weights_path)


@st.cache_resource(show_spinner=False)
def closed_session_sweeper():
    """The thread that shuts down closed tabs' sessions once Streamlit stops keeping them (one per server; None
    under AppTest). See widgets/closed_sessions."""
    return start_closed_session_sweeper()
