"""Work that many browser sessions ask of one small server, done one job at a time in the order asked.

Adapting the network takes minutes of both CPU cores, and reading an uploaded clip a second or two of them: two at
once would only make both slower, and twenty at once would make everyone wait as long as the slowest. So the server
keeps one queue per kind of work; a session submits a job and polls it for its place in the queue, its progress,
an estimate of the wait, and finally its result.
"""

import itertools
import statistics
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from lipnet_core.errors import LipNetError

RECENT_JOBS = 20  # how many finished jobs the wait estimate looks back on


@dataclass
class Job:
    """One piece of work asked for by one session (or by the server itself: ``timed`` False keeps it out of the
    wait estimate). ``work(progress)`` does it; the queue fills in the rest."""

    work: Callable[[Callable[[float, str], None]], object]
    timed: bool = True
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


class JobQueue:
    """Runs submitted jobs one at a time, in order, on a background thread (``name`` names the thread)."""

    def __init__(self, name: str = "lipnet-jobs", what: str = "job"):
        self.what = what  # what one job is called on the page ("adaptation", "reading")
        self._lock = threading.Lock()
        self._waiting: list[Job] = []
        self._running: Job | None = None
        self._numbers = itertools.count(1)
        self._recent_seconds: deque[float] = deque(maxlen=RECENT_JOBS)
        self._wakeup = threading.Condition(self._lock)
        self._worker = threading.Thread(target=self._run_forever, name=name, daemon=True)
        self._worker.start()

    def submit(self, work: Callable[[Callable[[float, str], None]], object], timed: bool = True) -> Job:
        with self._lock:
            job = Job(work=work, timed=timed, number=next(self._numbers))
            self._waiting.append(job)
            self._wakeup.notify()
            return job

    def position(self, job: Job) -> int:
        """0 while the job runs or is finished; else how many jobs are ahead of it (the running one included)."""
        with self._lock:
            if job not in self._waiting:
                return 0
            return self._waiting.index(job) + (1 if self._running is not None else 0)

    def typical_seconds(self) -> float | None:
        """The median duration of the last finished jobs, or None before any has finished."""
        with self._lock:
            return statistics.median(self._recent_seconds) if self._recent_seconds else None

    def wait_estimate(self, job: Job) -> float | None:
        """Roughly how many seconds until ``job`` starts: the jobs ahead of it times a typical job's duration."""
        typical = self.typical_seconds()
        return None if typical is None else self.position(job) * typical

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
                job.state, job.error = "failed", (f"The {self.what} failed unexpectedly ({type(error).__name__}: "
                                                  f"{error}).")
            finally:
                job.seconds = time.time() - started
                with self._lock:
                    self._running = None
                    if job.timed:
                        self._recent_seconds.append(job.seconds)


class RecentResults:
    """The last results by key, at most ``max_entries`` of them and ``max_bytes`` in all (as ``size_of`` counts
    them), shared by every session and safe to use from several threads.

    Finished readings are kept here so that choosing a clip again is instant, while a full class cannot fill the
    memory: the least recently used result goes first.
    """

    def __init__(self, max_entries: int, max_bytes: int | None = None, size_of: Callable[[object], int] = lambda _: 0):
        self.max_entries, self.max_bytes, self.size_of = max_entries, max_bytes, size_of
        self._lock = threading.Lock()
        self._results: OrderedDict = OrderedDict()  # key -> (result, its size)
        self.total_bytes = 0

    def get(self, key):
        with self._lock:
            if key not in self._results:
                return None
            self._results.move_to_end(key)
            return self._results[key][0]

    def put(self, key, result) -> None:
        size = self.size_of(result)
        with self._lock:
            if key in self._results:
                self.total_bytes -= self._results.pop(key)[1]
            self._results[key] = (result, size)
            self.total_bytes += size
            while len(self._results) > 1 and (len(self._results) > self.max_entries or (
                    self.max_bytes is not None and self.total_bytes > self.max_bytes)):
                self.total_bytes -= self._results.popitem(last=False)[1][1]

    def __len__(self) -> int:
        return len(self._results)
