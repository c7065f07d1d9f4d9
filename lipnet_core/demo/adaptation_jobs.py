"""Adaptations for many browser sessions on one small server: one at a time, in a queue, each in its own temp dir.

Adapting the network takes minutes of both CPU cores, so two at once would only make both slower. The server keeps
one :class:`AdaptationQueue`; each session submits its clips and polls its job for its place in the queue, its
progress, and finally its weights. A session's files live in a :class:`SessionWorkspace` (a private temporary
directory) that is removed when the session ends, or at the latest ``WORKSPACE_LIFETIME_SECONDS`` after it was made.
"""

import itertools
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lipnet_core.errors import LipNetError

WORKSPACE_PREFIX = "lipnet-session-"
WORKSPACE_LIFETIME_SECONDS = 3600


class SessionWorkspace:
    """A private temporary directory for one browser session's recordings and adapted weights.

    Files inside are named by the program (``prompt_03.mp4``), never by a user. The directory is removed by
    :meth:`remove`, when the object is garbage-collected (the session ended), or by :func:`remove_stale_workspaces`.
    """

    def __init__(self, root: str | Path | None = None):
        self.path = Path(tempfile.mkdtemp(prefix=WORKSPACE_PREFIX, dir=root))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def file(self, name: str) -> Path:
        """A path inside the workspace for a program-chosen ``name`` (letters, digits, ``_``, ``.`` and ``-``)."""
        if not name or name.startswith(".") or not all(character.isalnum() or character in "_.-" for character in name):
            raise ValueError(f"not a workspace file name: {name!r}")
        return self.path / name

    def remove(self) -> None:
        self._finalizer()

    @property
    def removed(self) -> bool:
        return not self._finalizer.alive


def remove_stale_workspaces(root: str | Path | None = None, max_age_seconds: float = WORKSPACE_LIFETIME_SECONDS) -> int:
    """Remove session workspaces older than ``max_age_seconds`` (left by sessions whose end was never seen)."""
    root = Path(root or tempfile.gettempdir())
    removed = 0
    for directory in root.glob(f"{WORKSPACE_PREFIX}*"):
        try:
            if directory.is_dir() and time.time() - directory.stat().st_mtime > max_age_seconds:
                shutil.rmtree(directory, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


@dataclass
class Job:
    """One adaptation asked for by one session. ``work(progress)`` does it; the queue fills in the rest."""

    work: Callable[[Callable[[float, str], None]], object]
    number: int = 0
    state: str = "waiting"  # waiting → running → done | failed
    fraction: float = 0.0
    message: str = "waiting for its turn"
    result: object = None
    error: str | None = None
    submitted: float = field(default_factory=time.time)
    seconds: float | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


class AdaptationQueue:
    """Runs submitted jobs one at a time, in order, on a background thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting: list[Job] = []
        self._running: Job | None = None
        self._numbers = itertools.count(1)
        self._wakeup = threading.Condition(self._lock)
        self._worker = threading.Thread(target=self._run_forever, name="lipnet-adaptation", daemon=True)
        self._worker.start()

    def submit(self, work: Callable[[Callable[[float, str], None]], object]) -> Job:
        with self._lock:
            job = Job(work=work, number=next(self._numbers))
            self._waiting.append(job)
            self._wakeup.notify()
            return job

    def position(self, job: Job) -> int:
        """0 while the job runs or is finished; else how many jobs are ahead of it (the running one included)."""
        with self._lock:
            if job not in self._waiting:
                return 0
            return self._waiting.index(job) + (1 if self._running is not None else 0)

    def cancel(self, job: Job) -> bool:
        """Drop a job that has not started (its session ended); True when it was dropped."""
        with self._lock:
            if job in self._waiting:
                self._waiting.remove(job)
                job.state, job.error = "failed", "cancelled"
                return True
            return False

    def _run_forever(self) -> None:
        while True:
            with self._lock:
                while not self._waiting:
                    self._wakeup.wait()
                job = self._running = self._waiting.pop(0)
                job.state, job.message = "running", "starting"
            started = time.time()

            def progress(fraction: float, message: str, job=job) -> None:
                job.fraction, job.message = max(0.0, min(1.0, fraction)), message

            try:
                job.result = job.work(progress)
                job.fraction, job.state, job.message = 1.0, "done", "done"
            except LipNetError as error:
                job.state, job.error = "failed", str(error)
            except Exception as error:  # a job must never take the worker down with it
                job.state, job.error = "failed", f"The adaptation failed unexpectedly ({type(error).__name__}: {error})."
            finally:
                job.seconds = time.time() - started
                with self._lock:
                    self._running = None
