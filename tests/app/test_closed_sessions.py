"""Closed tabs' sessions shut down once Streamlit stops keeping them for a reconnect (widgets/closed_sessions.py)."""

import asyncio
import importlib
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from classroom_load.light_client import LightSession  # scripts/ is on the path (tests/app/conftest.py)
from streamlit.runtime.caching.ttl_cache import TTLCache
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.session_manager import SessionInfo
from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

from lipnet_core.dataset import list_clips, load_split
from lipnet_core.demo.workspaces import WORKSPACE_PREFIX, SessionWorkspace
from lipnet_core.paths import SPLIT_PATH


@pytest.fixture
def closed_sessions(repo_root, monkeypatch):
    monkeypatch.syspath_prepend(str(repo_root))  # where streamlit run app.py finds widgets/
    return importlib.import_module("widgets.closed_sessions")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Teach:
    def __init__(self):
        self.workspace = SessionWorkspace()


class Session:
    def __init__(self, session_id: str):
        self.id, self.shut_down = session_id, False
        self.session_state = {"teach": Teach()}

    def shutdown(self) -> None:
        self.shut_down = True


class Manager:
    """The two attributes of Streamlit's session manager that the sweep uses."""

    def __init__(self, maxsize: int, clock: Clock):
        self._session_storage = MemorySessionStorage(maxsize=maxsize, ttl_seconds=60)
        self._session_storage._cache = TTLCache(maxsize=maxsize, ttl=60, timer=clock)
        self._storage_lock = threading.Lock()

    def close(self, session: Session) -> Session:
        self._session_storage.save(SessionInfo(client=None, session=session, script_run_count=1))
        return session


@pytest.fixture
def manager(closed_sessions):
    clock = Clock()
    manager = Manager(maxsize=3, clock=clock)
    manager.clock = clock
    manager.cache = closed_sessions.install_shutdown_on_drop(manager)
    return manager


def test_a_sweep_shuts_down_the_sessions_whose_time_is_up_and_keeps_the_others(closed_sessions, manager):
    first = manager.close(Session("first"))
    manager.clock.now = 50
    second = manager.close(Session("second"))
    manager.clock.now = 70

    shut = closed_sessions.sweep(manager, manager.cache)

    assert shut == 1 and first.shut_down and not second.shut_down
    assert first.session_state == {} and second.session_state  # emptied, not left to the garbage collector
    assert second.session_state["teach"].workspace.path.is_dir()
    assert manager._session_storage.get("first") is None
    assert manager._session_storage.get("second").session is second  # it may still resume


def test_a_shut_down_sessions_workspace_is_removed_at_once(manager):
    tab = manager.close(Session("tab"))
    workspace = tab.session_state["teach"].workspace
    manager.clock.now = 61
    manager.cache.expire()

    assert tab.shut_down and workspace.removed and not workspace.path.exists()


def test_a_session_that_streamlit_drops_when_another_closes_is_shut_down_too(manager):
    first = manager.close(Session("first"))
    manager.clock.now = 61
    manager.close(Session("second"))  # Streamlit's storage drops the expired session here (streamlit#12506)

    assert first.shut_down


def test_the_oldest_session_evicted_past_the_limit_is_shut_down(manager):
    sessions = [manager.close(Session(f"tab {index}")) for index in range(4)]  # maxsize 3

    assert [session.shut_down for session in sessions] == [True, False, False, False]


def test_a_session_taken_out_to_resume_keeps_running(manager):
    tab = manager.close(Session("tab"))
    manager._session_storage.delete("tab")  # as Streamlit does when the tab reconnects
    manager.clock.now = 100
    manager.cache.expire()

    assert not tab.shut_down


def test_sessions_waiting_when_it_is_installed_are_carried_over(closed_sessions):
    manager = Manager(maxsize=3, clock=Clock())
    waiting = manager.close(Session("waiting"))

    cache = closed_sessions.install_shutdown_on_drop(manager)

    assert manager._session_storage._cache is cache
    assert manager._session_storage.get("waiting").session is waiting


def test_the_installed_streamlit_has_what_the_sweep_reaches_into(closed_sessions):
    """If this fails after a Streamlit upgrade, the sweep silently does nothing: see widgets/closed_sessions.py."""
    manager = WebsocketSessionManager(MemorySessionStorage(), None, None, None)

    assert isinstance(closed_sessions.install_shutdown_on_drop(manager), closed_sessions.SessionsShutDownWhenDropped)


def test_without_a_server_runtime_nothing_starts(closed_sessions):
    assert closed_sessions.start_closed_session_sweeper() is None


@pytest.mark.slow
@pytest.mark.parametrize("server", [["--server.disconnectedSessionTTL", "2"]], indirect=True)
def test_a_closed_tabs_media_and_workspace_are_gone_from_the_server_after_its_time(server, grid_dir):
    """Without the sweep the last tabs of a class keep their page's media on the server, and their recordings'
    workspace on disk, until the server stops (or the workspace's hour is up)."""
    base_url, _ = server
    clips = {clip.clip_id: clip for clip in list_clips(grid_dir)}
    clip_id = [clip_id for clip_id in load_split(SPLIT_PATH)["test"] if clip_id in clips][2]
    workspaces_before = set(Path(tempfile.gettempdir()).glob(f"{WORKSPACE_PREFIX}*"))

    async def read_then_close() -> list[str]:
        reader, teacher = LightSession(base_url, "try_it_out"), LightSession(base_url, "teach_your_face")
        try:
            await reader.open()
            await reader.wait_for_text_containing(" frames at 25 fps", timeout_s=180)
            await reader.wait_until_finished(timeout_s=180)
            await reader.choose("clip", clip_id)
            await reader.wait_for_text_containing(f"{clip_id}: 75 frames", timeout_s=180)
            await reader.wait_until_finished(timeout_s=180)
            await teacher.open()
            await teacher.wait_until_finished(timeout_s=180)
            return [url if url.startswith("http") else base_url + url for url in reader.state.media]
        finally:
            await reader.close()
            await teacher.close()

    def status(url: str) -> int:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def new_workspaces() -> set:
        return set(Path(tempfile.gettempdir()).glob(f"{WORKSPACE_PREFIX}*")) - workspaces_before

    media = asyncio.run(read_then_close())
    served_after_close = [status(url) for url in media]
    workspaces_after_close = new_workspaces()
    deadline = time.monotonic() + 60  # 2 s to wait for a reconnect, then a sweep every 10 s
    while time.monotonic() < deadline and (new_workspaces() or any(status(url) == 200 for url in media)):
        time.sleep(2)

    assert len(media) >= 3 and served_after_close == [200] * len(media)  # the video, the boxed frame, the GIF
    assert len(workspaces_after_close) == 1  # the Teach page's
    assert [status(url) for url in media] == [404] * len(media)
    assert not new_workspaces()
