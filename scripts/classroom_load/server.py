"""The app's server under test: started as ./start.sh starts it, its memory (Pss) and CPU read from /proc."""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from lipnet_core.dataset import DATA_DIR_VARIABLE

REPO_ROOT = Path(__file__).resolve().parents[2]
MIB = 2**20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SERVER_ENTRY = ("import faulthandler, signal; faulthandler.register(signal.SIGUSR1, all_threads=True); "
                "from streamlit.web.cli import main; main(prog_name='streamlit')")  # python -m streamlit, plus that


def dump_server_stacks(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGUSR1)
        time.sleep(1)


def start_server(port: int, data_dir: str, log_file) -> subprocess.Popen:
    # As ./start.sh runs it: MALLOC_ARENA_MAX=2 (one run each here: +181 MiB after a class closed, against +419 MiB
    # with glibc's default arenas).
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **{DATA_DIR_VARIABLE: data_dir})
    environment.setdefault("MALLOC_ARENA_MAX", "2")
    environment.pop("LIPNET_WEIGHTS", None)
    # No file watcher: other people edit the pages while this runs, and a "source changed" prompt is not load.
    # SIGUSR1 makes the server write every thread's Python stack to its log (see dump_server_stacks).
    return subprocess.Popen(
        [sys.executable, "-c", SERVER_ENTRY, "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=REPO_ROOT, env=environment, stdout=log_file, stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_for_health(base_url: str, server: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not answer at {base_url} within {timeout:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, ()))
    return tree


def resident_bytes(pid: int) -> int:
    """The memory of ``pid`` and its descendants: their proportional set sizes (Pss, /proc/PID/smaps_rollup) added
    up, so that pages they share count once (0 for a process that has gone).

    Adding up RSS instead counts a child just forked by the server (for ffmpeg, before it runs) as a second copy of
    the server's pages: the likely cause of RSS "peaks" of about twice the server's memory (3.1 GB beside a 1.5 GB
    server) seen here."""
    total = 0
    for member in process_tree(pid):
        try:
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
        total += int(match.group(1)) * 1024 if match else 0
    return total


class MemorySampler(threading.Thread):
    """Samples the server's resident memory every ``interval`` seconds; ``peak`` is the highest since ``reset``,
    and ``peak_activity`` what the sessions were doing then (from ``activities``, which they keep up to date)."""

    def __init__(self, pid: int, interval: float = 2.0):  # reading Pss walks the server's page tables: not too often
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.peak_activity = ""
        self.activities: dict[int, str] = {}
        self.most_processes = 1
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self.now()
            self.most_processes = max(self.most_processes, len(process_tree(self.pid)))

    def now(self) -> int:
        value = resident_bytes(self.pid)
        if value > self.peak:
            self.peak = value
            self.peak_activity = "; ".join(text for _, text in sorted(self.activities.items()))
        return value

    def reset(self) -> None:
        self.peak = 0
        self.now()

    async def settled(self, seconds: float = 5.0, tolerance: int = 8 * 2**20, timeout: float = 120.0) -> int:
        """The resident memory once it has changed by less than ``tolerance`` over ``seconds`` (the server's own
        warm-up, run in the background after the first page, done), or after ``timeout``."""
        deadline, last = time.monotonic() + timeout, self.now()
        while time.monotonic() < deadline:
            await asyncio.sleep(seconds)
            value = self.now()
            if abs(value - last) < tolerance:
                return value
            last = value
        return self.now()

    def stop(self) -> None:
        self._stop.set()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of ``pids`` and of their children that have exited and been waited for."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds used between ``__init__`` and ``stop()`` by the server, by this script's browser side (Playwright
    and Chromium: this process's descendants other than the server) and by everything else on the machine."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid
        self.started, self.start = time.monotonic(), self._read()

    def _read(self) -> tuple[float, float, float]:
        server = process_tree(self.server_pid)
        ours = [pid for pid in process_tree(os.getpid()) if pid not in server]
        return cpu_seconds(server), cpu_seconds(ours), machine_busy_seconds()

    def stop(self) -> str:
        wall = time.monotonic() - self.started
        server, browser, busy = (end - start for end, start in zip(self._read(), self.start))
        others = max(busy - server - browser, 0.0)
        cores = len(os.sched_getaffinity(0))
        return (f"CPU over these {wall:.0f} s ({cores * wall:.0f} core-seconds on {cores} cores): server "
                f"{server:.0f} s, browser side (Playwright, Chromium, this script) {browser:.0f} s, everything else "
                f"on the machine {others:.0f} s")


def mib(value: int) -> str:
    return f"{value / MIB:,.0f} MiB"
