"""Closed tabs, shut down once Streamlit stops waiting for them to come back.

When a browser tab closes, Streamlit keeps its session (session state, uploaded files, the media files of its page)
for ``server.disconnectedSessionTTL`` seconds, so that a tab that only lost its connection can resume it. When that
time is up Streamlit drops the session from its storage lazily, when another closed session is stored, and never
shuts it down (streamlit/streamlit#12506): its session state lives until the garbage collector finds it, and its
uploads and media files stay in the server's file managers for good, since only ``AppSession.shutdown`` removes them.
The last tabs of a lesson are not even dropped: nothing is stored after them.

:func:`start_closed_session_sweeper` (once per server) gives Streamlit's session storage a cache that shuts down every
session it drops, and starts a daemon thread that every :data:`SWEEP_SECONDS` asks the runtime's event loop (where
Streamlit stores and shuts down sessions itself) to drop the expired ones, then collects the garbage (frozen objects
included: see :func:`widgets.script_runs.collect_frozen_garbage`) and hands the freed memory back to the system.

This reaches into Streamlit's session manager (``_session_storage``, ``_storage_lock``); where a later Streamlit no
longer has them it changes nothing (``tests/app/test_closed_sessions.py`` covers both).
"""

import ctypes
import ctypes.util
import threading
import time

from streamlit import runtime
from streamlit.runtime.caching.ttl_cache import TTLCache

from widgets.script_runs import collect_frozen_garbage

SWEEP_SECONDS = 10.0


class SessionsShutDownWhenDropped(TTLCache):
    """Streamlit's TTL cache of closed sessions (session id → ``SessionInfo``) that shuts down each session it drops
    on its own: expired, or the least recently closed one evicted past ``maxsize``. A session taken out to resume it
    (``del``) is left running."""

    shut_down_count = 0  # sessions shut down so far
    collected_at_count = 0  # shut_down_count at the last sweep's collection

    def expire(self, at_time=None):
        removed = super().expire(at_time)
        for _, session_info in removed:
            self._shut_down(session_info)
        return removed

    def _evict_lru(self, reason):
        session_info = super()._evict_lru(reason)
        self._shut_down(session_info)
        return session_info

    def _shut_down(self, session_info) -> None:
        session_info.session.shutdown()
        remove_session_files(session_info.session.session_state)
        session_info.session.session_state.clear()
        self.shut_down_count += 1


def remove_session_files(session_state) -> None:
    """Remove the session's own files (the Teach page's workspace: recordings, adapted weights) now, rather than when
    its objects are collected: Streamlit's runtime loop keeps the last session it looked at in a local variable until
    it next wakes, and the session's page functions (kept as widget callbacks) keep the page's variables, so a Teach
    page's workspace outlived its shut-down session here until the server next had a visitor."""
    teach = session_state["teach"] if "teach" in session_state else None
    workspace = getattr(teach, "workspace", None)
    if workspace is not None:
        workspace.remove()


def install_shutdown_on_drop(session_manager) -> SessionsShutDownWhenDropped | None:
    """Give ``session_manager``'s storage a :class:`SessionsShutDownWhenDropped` with its bounds and its sessions;
    the cache in use, or None where the storage is not the one this module knows."""
    storage = getattr(session_manager, "_session_storage", None)
    cache = getattr(storage, "_cache", None)
    lock = getattr(session_manager, "_storage_lock", None)
    if lock is None or not isinstance(cache, TTLCache):
        return None
    with lock:
        if not isinstance(cache, SessionsShutDownWhenDropped):
            replacement = SessionsShutDownWhenDropped(maxsize=cache.maxsize, ttl=cache.ttl, timer=cache.timer)
            for session_id, session_info in cache.items():  # the sessions still waiting to resume
                replacement[session_id] = session_info
            storage._cache = cache = replacement
    return cache


def sweep(session_manager, cache: SessionsShutDownWhenDropped) -> int:
    """Drop (and so shut down) the expired sessions; after any shutdown since the last sweep, collect the garbage and
    release free memory. Returns how many sessions have been shut down in all. Call it on the runtime's event loop."""
    shut_down_before = cache.shut_down_count
    with session_manager._storage_lock:
        cache.expire()
    if cache.shut_down_count != cache.collected_at_count:
        cache.collected_at_count = cache.shut_down_count
        collect_frozen_garbage()  # a session's state is full of reference cycles, some of them frozen
        release_free_memory()
    return cache.shut_down_count - shut_down_before


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere nothing)."""
    library = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(library), "malloc_trim", None) if library else None
    if trim is not None:
        trim(0)


def _sweep_forever(server_runtime, cache: SessionsShutDownWhenDropped, interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            event_loop = server_runtime._get_async_objs().eventloop
            event_loop.call_soon_threadsafe(sweep, server_runtime._session_mgr, cache)
        except RuntimeError:  # the event loop is closed: the server is stopping
            return


def start_closed_session_sweeper(interval: float = SWEEP_SECONDS) -> threading.Thread | None:
    """Install the shutting-down storage and start the sweeping thread for this server; None where there is no server
    runtime (AppTest) or its session storage is not the one this module knows."""
    if not runtime.exists():
        return None
    server_runtime = runtime.get_instance()
    cache = install_shutdown_on_drop(getattr(server_runtime, "_session_mgr", None))
    if cache is None:
        return None
    thread = threading.Thread(target=_sweep_forever, args=(server_runtime, cache, interval),
                              name="lipnet-closed-session-sweeper", daemon=True)
    thread.start()
    return thread
