"""A classroom at once: many Chromium sessions on Try it out against one `streamlit run app.py`.

    LIPNET_DATA_DIR=../shared/grid .venv/bin/python scripts/load_test.py [--sessions 20] [--uploads 4] [--together]
        [--classes 1] [--loop-readings 200] [--animate-gifs] [--port P] [--data-dir DIR]

Starts the server itself (as ./start.sh does, with MALLOC_ARENA_MAX=2), opens one page so that the model loads, waits
for the server's own warm-up of a live reading to settle (the "start" memory), then opens ``--sessions`` Playwright
contexts of one Chromium at once. Each opens Try it out, waits for its first reading, then (at once, or with
``--together`` when every page is open, as when a teacher says "now") either picks its own held-out GRID clip or
(``--uploads`` of them) uploads a copy of a GRID clip's bytes as ``clip.mp4``, alternately of speaker 1 and of
speaker 4. ``--classes`` runs such classes one after another with new clips, to see whether memory after a class stays
put. A last phase has ``--loop-sessions`` sessions read ``--loop-readings`` clips one after another (an upload every
``--loop-upload-every``) while the server's memory is sampled, to show whether it grows.

Reports errors (browser console, page errors, Streamlit exceptions and error boxes, tracebacks in the server log),
the seconds from asking to each reading shown, whether a queue was shown to waiting uploads, the server's resident
memory (its process and any children, from /proc) at start, peak and after the sessions close, and every file the
run wrote outside the system's temporary folder. Prints figures; asserts nothing. The browsers share the machine's
cores with the server, so the times include their rendering of every page; they animate GIFs once (see ANIMATE_ONCE).
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

from lipnet_core.dataset import DATA_DIR_VARIABLE, list_clips, load_split  # noqa: E402
from lipnet_core.paths import DEFAULT_WEIGHTS, SPLIT_PATH  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Chromium's "animate once" image policy. On one 2-core machine twenty browsers each looping the mouth GIF took most
# of both cores by themselves (measured: 1.65 CPU-s per 20 s for one idle page with its reading shown, 0.42 s with
# this policy); in a classroom each pupil's own device animates its GIF. --animate-gifs measures without it.
ANIMATE_ONCE = "--blink-settings=imageAnimationPolicy=1"
VIEWPORT = {"width": 1366, "height": 900}
QUEUE_PATTERN = r"ahead of yours|in the queue|waiting for the server|waiting for its turn"
# Notes every queue message that appears on the page, however briefly (upload_clip reads and resets it).
QUEUE_WATCH = """
window.__queueTexts = [];
const queuePattern = new RegExp(%s, "i");
new MutationObserver((records) => {
  for (const record of records) {
    const nodes = record.type === "characterData" ? [record.target] : record.addedNodes;
    for (const node of nodes) {
      const text = (node.textContent || "").trim();
      if (text.length < 2000 && queuePattern.test(text)) window.__queueTexts.push(text.slice(0, 200));
    }
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
""" % json.dumps(QUEUE_PATTERN)
PROBLEMS = '[data-testid="stAlertContentError"], [data-testid="stException"]'
GRID_TARGET_SECONDS = 5.0
NEAR_START = 0.10  # "memory returns near its starting level": within 10 % of it
MIB = 2**20


# ---------------------------------------------------------------- the server and its memory


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


# ---------------------------------------------------------------- one browser session


@dataclass
class Reading:
    kind: str  # "grid" or "upload"
    what: str  # the clip id, or the file whose bytes were uploaded
    seconds: float | None = None
    precomputed: bool | None = None
    queue_text: str | None = None
    error: str | None = None


@dataclass
class Session:
    number: int
    task: str = ""  # what it reads: "grid <clip id>" or "upload <file>"
    open_seconds: float | None = None
    asked_at: float | None = None  # seconds into the phase when it asked for its own reading
    page: object = field(default=None, repr=False)
    stuck: str | None = None  # what its page showed when it failed
    readings: list[Reading] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    error: str | None = None


def failure(error: Exception, timeout_s: float) -> str:
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)) and not str(error):
        return f"timed out after {timeout_s:.0f} s"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]


def watch(page, session: Session) -> None:
    page.on("console", lambda message: message.type == "error" and session.console_errors.append(message.text))
    page.on("pageerror", lambda error: session.console_errors.append(f"pageerror: {error}"))
    page.on("response", lambda response: response.status >= 400 and session.console_errors.append(
        f"HTTP {response.status} {response.url}"))


async def wait_until_idle(page, timeout_ms: float) -> None:
    """Wait for the script run to finish (Streamlit shows a status widget while it runs)."""
    await page.wait_for_timeout(300)
    await page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout_ms)


async def problem_text(page) -> str:
    problems = page.locator(PROBLEMS)
    texts = [" ".join((await problems.nth(index).inner_text()).split())[:300]
             for index in range(await problems.count())]
    return " | ".join(texts) or "an error box"


async def reading_shown(page, caption: str, extra, timeout_ms: float) -> str:
    """Wait for the reading (caption, heading and ``extra``) or an error box; "reading" or "problem".

    One waiter at a time, each also ending on an error box: a cancelled Playwright wait can leave its task hanging
    (seen here: awaiting a cancelled ``Locator.wait_for`` never returned), so nothing is raced and cancelled."""
    problem = page.locator(PROBLEMS)
    heading = page.get_by_role("heading", name="What the model read")
    for wanted in [page.get_by_text(caption), heading] + ([extra] if extra is not None else []):
        await wanted.or_(problem).first.wait_for(timeout=timeout_ms)
        if await problem.count():
            return "problem"
    return "reading"


async def open_try_it_out(page, base_url: str, timeout_ms: float, deep_link: bool) -> tuple[float, str]:
    """Open the app and its Try it out page (through the sidebar, as a pupil given the server's address would, or
    by its own address) and wait for the first reading; (seconds from loading the app, the clip id shown)."""
    started = time.monotonic()
    if deep_link:
        await page.goto(f"{base_url}/try_it_out", timeout=timeout_ms)
    else:
        await page.goto(base_url, timeout=timeout_ms)
        await page.get_by_test_id("stSidebarNav").get_by_text("Try it out", exact=True).click(timeout=timeout_ms)
    caption = page.get_by_text(re.compile(r"^\w+: \d+ frames at 25 fps"))
    if await reading_shown(page, " frames at 25 fps", None, timeout_ms) == "problem":
        raise RuntimeError(await problem_text(page))
    seconds = time.monotonic() - started
    first_clip = (await caption.first.inner_text()).split(":")[0]
    await wait_until_idle(page, timeout_ms)
    return seconds, first_clip


async def is_precomputed(page) -> bool:
    return await page.get_by_text("computed ahead of time").count() > 0


async def read_grid_clip(page, clip_id: str, truth: str, timeout_ms: float) -> Reading:
    reading = Reading("grid", clip_id)
    await page.get_by_test_id("stSelectbox").filter(has_text="GRID clip").locator("input").click()
    await page.keyboard.type(clip_id)
    asked = time.monotonic()
    await page.keyboard.press("Enter")
    ground_truth = page.get_by_text(f"Ground truth (from the clip's alignment): {truth}", exact=True)
    outcome = await reading_shown(page, f"{clip_id}: ", ground_truth, timeout_ms)
    if outcome == "problem":
        reading.error = await problem_text(page)
        return reading
    reading.seconds = time.monotonic() - asked
    await wait_until_idle(page, timeout_ms)
    reading.precomputed = await is_precomputed(page)
    return reading


async def choose_source(page, source: str, timeout_ms: float) -> None:
    await page.get_by_test_id("stRadio").get_by_text(source).click()
    await wait_until_idle(page, timeout_ms)


async def upload_clip(page, source: Path, timeout_ms: float) -> Reading:
    """Upload ``source``'s bytes as clip.mp4 (Upload a clip must be chosen); notes any queue message meanwhile."""
    reading = Reading("upload", f"{source.parent.name}/{source.name}")
    await page.evaluate("window.__queueTexts = []")
    asked = time.monotonic()
    await page.locator('input[type="file"]').set_input_files(
        files=[{"name": "clip.mp4", "mimeType": "video/mp4", "buffer": source.read_bytes()}])
    outcome = await reading_shown(page, "Your clip: ", None, timeout_ms)
    queue_texts = await page.evaluate("window.__queueTexts")
    # An alert's text starts with its icon's name ("hourglass_topIn the queue: …"): drop it.
    reading.queue_text = re.sub(r"^[a-z0-9_]+(?=[A-Z])", "", " ".join(queue_texts[0].split())) if queue_texts else None
    if outcome == "problem":
        reading.error = await problem_text(page)
        return reading
    reading.seconds = time.monotonic() - asked
    await wait_until_idle(page, timeout_ms)
    return reading


async def look_at_failures(sessions: list[Session], folder: Path) -> None:
    """Screenshot each failed session's page and note what it shows (a spinner? which text?)."""
    for session in sessions:
        if session.page is None or (session.error is None and all(r.error is None for r in session.readings)):
            continue
        try:
            await session.page.screenshot(path=folder / f"failed_session_{session.number}.png", full_page=True,
                                          timeout=30_000)
            main = " ".join((await session.page.get_by_test_id("stMain").inner_text(timeout=10_000)).split())
            spinners = await session.page.get_by_test_id("stSpinner").count()
            running = await session.page.get_by_test_id("stStatusWidget").count()
            session.stuck = (f"{spinners} spinner(s), {'script running' if running else 'script idle'}; page text: "
                             f"{main[:260]}")
        except Exception as error:
            session.stuck = f"could not look at the page: {failure(error, 30)}"


async def new_page(browser, session: Session, timeout_ms: float):
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(timeout_ms)
    await context.add_init_script(QUEUE_WATCH)
    page = await context.new_page()
    watch(page, session)
    return context, page


class OpenBarrier:
    """Lets the sessions ask together once every one of them has opened its page (or failed to)."""

    def __init__(self, count: int):
        self.remaining, self.event = count, asyncio.Event()

    def arrive(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self.event.set()

    async def wait(self) -> None:
        await self.event.wait()


async def classroom_session(browser, base_url: str, session: Session, task: tuple, truths: dict,
                            timeout_s: float, contexts: list, deep_link: bool, phase_start: float,
                            all_open: "OpenBarrier | None" = None) -> None:
    """One pupil: open Try it out, wait for the first reading, then read their own clip or upload one (with
    ``all_open``, only once every session has its page open: the teacher says "now pick a clip")."""
    timeout_ms = timeout_s * 1000
    kind, what = task
    session.task = f"{kind} {what if kind == 'grid' else f'{what.parent.name}/{what.name}'}"

    async def steps() -> None:
        context, page = await new_page(browser, session, timeout_ms)
        contexts.append(context)
        session.page = page
        try:
            session.open_seconds, _ = await open_try_it_out(page, base_url, timeout_ms, deep_link)
        finally:
            if all_open is not None:
                all_open.arrive()
        if all_open is not None:
            await all_open.wait()
        session.asked_at = time.monotonic() - phase_start
        if kind == "grid":
            session.readings.append(await read_grid_clip(page, what, truths[what], timeout_ms))
        else:
            await choose_source(page, "Upload a clip", timeout_ms)
            session.readings.append(await upload_clip(page, what, timeout_ms))
        if await page.get_by_test_id("stException").count():
            session.error = f"exception on the page: {await problem_text(page)}"

    try:
        await asyncio.wait_for(steps(), timeout=timeout_s)
    except Exception as error:  # a session's failure is a result, not the end of the test
        session.error = failure(error, timeout_s)


async def looping_session(browser, base_url: str, session: Session, tasks: list, truths: dict, timeout_s: float,
                          counter: dict, on_reading, deep_link: bool, activities: dict) -> None:
    """Read ``tasks`` one after another in one page (switching to uploads and back as needed)."""
    timeout_ms = timeout_s * 1000
    session.task = f"{len(tasks)} readings"
    context, page = await new_page(browser, session, timeout_ms)
    try:
        session.open_seconds, shown = await open_try_it_out(page, base_url, timeout_ms, deep_link)
        for kind, what in tasks:
            activities[session.number] = (f"loop session {session.number} at reading {counter['readings'] + 1}: "
                                          f"{kind} {what if kind == 'grid' else f'{what.parent.name}/{what.name}'}")
            try:
                if kind == "grid":
                    if what == shown:  # choosing the clip already shown asks for nothing
                        continue
                    reading = await asyncio.wait_for(read_grid_clip(page, what, truths[what], timeout_ms), timeout_s)
                    shown = what
                else:
                    await choose_source(page, "Upload a clip", timeout_ms)
                    reading = await asyncio.wait_for(upload_clip(page, what, timeout_ms), timeout_s)
                    await choose_source(page, "GRID clip", timeout_ms)
                    shown = (await page.get_by_text(re.compile(r"^\w+: \d+ frames at 25 fps")).first.inner_text()
                             ).split(":")[0]
            except Exception as error:
                reading = Reading(kind, str(what), error=failure(error, timeout_s))
                session.readings.append(reading)
                break  # the page is in an unknown state
            session.readings.append(reading)
            counter["readings"] += 1
            on_reading(counter["readings"])
        if await page.get_by_test_id("stException").count():
            session.error = f"exception on the page: {await problem_text(page)}"
    except Exception as error:
        session.error = failure(error, timeout_s)
    finally:
        activities.pop(session.number, None)
        await context.close()


# ---------------------------------------------------------------- planning and reporting


def held_out_ids(data_dir: str) -> tuple[list[str], dict[str, str]]:
    """Held-out clip ids (test then validation) present in ``data_dir``, and every speaker-1 clip's sentence."""
    clips = {clip.clip_id: clip for clip in list_clips(data_dir)}
    split = load_split(SPLIT_PATH)
    ids = [clip_id for name in ("test", "validation") for clip_id in split.get(name, ()) if clip_id in clips]
    return ids, {clip_id: clip.sentence() for clip_id, clip in clips.items()}


def upload_sources(data_dir: str, spare_ids: list[str], count: int) -> list[Path]:
    """``count`` distinct clip files, alternately of speaker 1 (a held-out clip not picked by anyone) and 4."""
    speaker_one = [path for clip_id in spare_ids for path in [Path(data_dir) / "s1" / f"{clip_id}.mp4"]
                   if path.is_file()]
    speaker_four = sorted((Path(data_dir) / "s4").glob("*.mp4"))
    chosen = []
    for index in range(count):
        pool = speaker_one if (index % 2 == 0 or not speaker_four) else speaker_four
        if not pool:
            pool = speaker_four or speaker_one
        if not pool:
            raise SystemExit(f"no clip files to upload in {data_dir}/s1 or {data_dir}/s4")
        chosen.append(pool.pop(0))
    return chosen


def seconds_summary(values: list[float]) -> str:
    if not values:
        return "none"
    return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s (n={len(values)})"


def machine_description() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    memory = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    total = f"{int(memory.group(1)) / 2**20:.1f} GiB" if memory else "unknown"
    return f"{len(os.sched_getaffinity(0))} cores (nproc), {model}, {total} memory"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def repository_state() -> tuple[set[str], set[str]]:
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=REPO_ROOT, capture_output=True,
                            text=True, check=True).stdout
    return set(status.splitlines()), set(os.listdir(REPO_ROOT.parent))


def files_touched_since(started: float) -> list[str]:
    """Files in the repository (not .git, not .venv) modified after ``started`` (a time.time())."""
    touched = []
    for folder, subfolders, files in os.walk(REPO_ROOT):
        subfolders[:] = [name for name in subfolders if name not in (".git", ".venv")]
        for name in files:
            path = Path(folder) / name
            try:
                if path.stat().st_mtime >= started:
                    touched.append(str(path.relative_to(REPO_ROOT)))
            except OSError:
                continue
    return sorted(touched)


def written_outside_temp(marker: Path) -> list[str]:
    """Every file on this machine's root file system modified after ``marker`` was made, outside the temporary
    folders, /proc, /sys, /dev, /run and .git directories (``find / -xdev -newer MARKER``): what the run wrote
    anywhere it should not have, plus whatever else ran meanwhile."""
    pruned = ["/proc", "/sys", "/dev", "/run", tempfile.gettempdir(), "/var/tmp"]
    expression = [part for path in pruned for part in ("-path", path, "-o")] + ["-name", ".git"]
    found = subprocess.run(["find", "/", "-xdev", "(", *expression, ")", "-prune", "-o", "-type", "f", "-newer",
                            str(marker), "-print"], capture_output=True, text=True).stdout
    return sorted(found.splitlines())


def tracebacks(log_text: str) -> list[str]:
    """Each traceback in the server log: its first line after the header and its last line (the error)."""
    found = []
    lines = log_text.splitlines()
    for index, line in enumerate(lines):
        if "Traceback" in line:
            block = [line]
            for following in lines[index + 1 :]:
                block.append(following)
                if following and not following.startswith((" ", "\t")) and len(block) > 2:
                    break
            found.append("\n      ".join(block[:4] + (["...", block[-1]] if len(block) > 4 else [])))
    return found


def print_errors(sessions: list[Session]) -> None:
    texts = [text for session in sessions for text in session.console_errors]
    print(f"  browser console errors, page errors and HTTP >= 400: {len(texts)}")
    for text in sorted(set(texts)):
        print(f"    {texts.count(text)} x {text[:240]}")


# ---------------------------------------------------------------- the run


async def run_phases(arguments, base_url: str, server, sampler: MemorySampler, figures: dict,
                     artifacts: Path) -> None:
    """Warm-up, classroom, loop; fills ``figures`` as it goes, so a failure part-way still leaves a report."""
    from playwright.async_api import async_playwright

    timeout_ms = arguments.session_timeout * 1000
    held_out, truths = held_out_ids(arguments.data_dir)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS + ([] if arguments.animate_gifs else [ANIMATE_ONCE]))
        try:
            # Warm-up: one page loads the model and the precomputed readings, as the first pupil would; the server
            # then warms a live reading in the background (TensorFlow's trace, the face detector).
            warm = Session(0)
            context, page = await new_page(browser, warm, timeout_ms)
            warm.open_seconds, first_clip = await open_try_it_out(page, base_url, timeout_ms, arguments.deep_link)
            await context.close()
            figures["warm-up"] = warm
            figures["rss after warm-up page"] = sampler.now()
            figures["rss after warm-up"] = await sampler.settled()

            candidates = [clip_id for clip_id in held_out if clip_id != first_clip]
            if len(candidates) < arguments.sessions * arguments.classes:
                raise SystemExit(f"only {len(candidates)} held-out clips for {arguments.classes} classes of "
                                 f"{arguments.sessions}")
            figures["later classes"] = []
            for number in range(arguments.classes):
                # Each class its own clips: a clip read by an earlier class would come from the shared cache.
                ours = candidates[number * arguments.sessions : (number + 1) * arguments.sessions]
                result = await classroom_phase(arguments, browser, base_url, server, sampler, truths, ours, artifacts,
                                               timeout_ms)
                if number == 0:
                    figures.update(result)
                else:
                    figures["later classes"].append(result)
                await asyncio.sleep(arguments.settle)
                result["rss after classroom closed"] = sampler.now()
                if number == 0:
                    figures["rss after classroom closed"] = result["rss after classroom closed"]

            if arguments.loop_readings:
                cycle = [clip_id for clip_id in held_out if clip_id != first_clip]  # the page opens on first_clip
                await loop_phase(arguments, browser, base_url, sampler, figures, cycle, truths)
        finally:
            await browser.close()


async def classroom_phase(arguments, browser, base_url, server, sampler, truths, clip_ids, artifacts,
                          timeout_ms) -> dict:
    """``--sessions`` pupils at once, each with its own clip of ``clip_ids`` (``--uploads`` of them upload it)."""
    grid_count = arguments.sessions - arguments.uploads
    grid_ids, spare = clip_ids[:grid_count], clip_ids[grid_count:]
    uploads = upload_sources(arguments.data_dir, spare, arguments.uploads)
    # Spread the uploads among the sessions rather than all at the end of the list.
    step = arguments.sessions / arguments.uploads if arguments.uploads else 0
    upload_slots = {int(index * step) for index in range(arguments.uploads)}
    grid_iter, upload_iter = iter(grid_ids), iter(uploads)
    plan = [("upload", next(upload_iter)) if number in upload_slots else ("grid", next(grid_iter))
            for number in range(arguments.sessions)]

    sessions = [Session(number + 1) for number in range(arguments.sessions)]
    result: dict = {"sessions": sessions}
    contexts: list = []
    sampler.activities[0] = "the classroom phase"
    sampler.reset()
    meter = CpuMeter(sampler.pid)
    started = time.monotonic()
    try:
        all_open = OpenBarrier(len(sessions)) if arguments.together else None
        await asyncio.gather(*(classroom_session(browser, base_url, session, task, truths, arguments.session_timeout,
                                                 contexts, arguments.deep_link, started, all_open)
                               for session, task in zip(sessions, plan)))
        result["classroom seconds"] = time.monotonic() - started
        result["classroom cpu"] = meter.stop()
        if any(session.error or any(r.error for r in session.readings) for session in sessions):
            dump_server_stacks(server)
            await look_at_failures(sessions, artifacts)
    finally:
        for context in contexts:
            await context.close()
        sampler.activities.clear()
    result["rss peak classroom"] = sampler.peak
    result["processes most"] = sampler.most_processes
    return result


async def loop_phase(arguments, browser, base_url, sampler, figures, held_out, truths) -> None:
    """``--loop-sessions`` pages share ``--loop-readings`` readings; the memory is noted every ``--sample-every``."""
    speaker_four = sorted((Path(arguments.data_dir) / "s4").glob("*.mp4"))
    work: list[tuple] = []
    for index in range(arguments.loop_readings):
        upload_turn = arguments.loop_upload_every and (index + 1) % arguments.loop_upload_every == 0
        if upload_turn and speaker_four:
            work.append(("upload", speaker_four[(index // arguments.loop_upload_every) % len(speaker_four)]))
        else:
            work.append(("grid", held_out[index % len(held_out)]))
    shares = [work[start :: arguments.loop_sessions] for start in range(arguments.loop_sessions)]
    samples = [(0, sampler.now())]
    figures["loop samples"] = samples
    counter = {"readings": 0}

    def on_reading(done: int) -> None:
        if done % arguments.sample_every == 0:
            samples.append((done, sampler.now()))

    sessions = figures["loop sessions"] = [Session(number + 1) for number in range(arguments.loop_sessions)]
    sampler.reset()
    meter = CpuMeter(sampler.pid)
    started = time.monotonic()
    await asyncio.gather(*(looping_session(browser, base_url, session, share, truths, arguments.session_timeout,
                                           counter, on_reading, arguments.deep_link, sampler.activities)
                           for session, share in zip(sessions, shares)))
    figures["loop seconds"] = time.monotonic() - started
    figures["loop cpu"] = meter.stop()
    figures["loop peak activity"] = sampler.peak_activity
    if samples[-1][0] != counter["readings"]:
        samples.append((counter["readings"], sampler.now()))
    figures["rss peak loop"] = sampler.peak
    await asyncio.sleep(arguments.settle)
    figures["rss after loop closed"] = sampler.now()


def report(arguments, figures, log_text, repository_checks) -> None:
    sessions, loop_sessions = figures.get("sessions", []), figures.get("loop sessions", [])
    print("\n=== Load test: Try it out ===")
    if "fatal" in figures:
        print(f"THE RUN STOPPED EARLY: {figures['fatal']}")
    print(f"machine: {machine_description()}; load average at start {figures['load before']}, "
          f"at end {load_average()} (other work on this machine shares these cores)")
    gifs = "looping, as shown" if arguments.animate_gifs else f"animated once ({ANIMATE_ONCE})"
    print(f"Chromium: GIFs {gifs}; one browser, one context per session, each opening "
          f"{'/try_it_out by its address' if arguments.deep_link else 'the app, then Try it out in the sidebar'}; "
          f"session timeout {arguments.session_timeout:.0f} s")
    weights = DEFAULT_WEIGHTS
    print(f"weights file: {weights.name}, {weights.stat().st_size / MIB:.1f} MiB on disk" if weights.is_file()
          else "weights file: none")
    warm = figures.get("warm-up")
    if warm is not None:
        print(f"warm-up page (model load included): the app to Try it out's first reading in {warm.open_seconds:.1f} s")

    asking = "all ask together once every page is open" if arguments.together else "each asks once its page is open"
    print(f"\n-- Classroom: {arguments.sessions} sessions at once ({arguments.sessions - arguments.uploads} pick a "
          f"GRID clip, {arguments.uploads} upload; {asking}) --")
    readings = [reading for session in sessions for reading in session.readings]
    good = [session for session in sessions if session.error is None and session.readings
            and session.readings[0].error is None and session.readings[0].seconds is not None]
    print(f"  sessions with their reading and no error: {len(good)}/{len(sessions)}"
          + (f" (all done in {figures['classroom seconds']:.1f} s)" if "classroom seconds" in figures else ""))
    for session in sessions:
        for problem in filter(None, [session.error] + [reading.error for reading in session.readings]):
            print(f"    session {session.number} ({session.task}): {problem}")
        if session.stuck:
            print(f"      its page then: {session.stuck}")
    if "classroom cpu" in figures:
        print(f"  {figures['classroom cpu']}")
    print("  session: opened app to first reading (s) | asked at (s into the phase) | reading shown after (s)")
    for session in sessions:
        reading = session.readings[0] if session.readings else None
        opened = f"{session.open_seconds:6.1f}" if session.open_seconds is not None else "     -"
        asked = f"{session.asked_at:6.1f}" if session.asked_at is not None else "     -"
        shown = f"{reading.seconds:6.1f}" if reading is not None and reading.seconds is not None else "     -"
        print(f"    {session.number:2d} {session.task:<26} {opened} | {asked} | {shown}")
    opened = [session.open_seconds for session in sessions if session.open_seconds is not None]
    print(f"  opening the app to Try it out's first reading: {seconds_summary(opened)}")
    grid = [reading for reading in readings if reading.kind == "grid" and reading.seconds is not None]
    grid_seconds = [reading.seconds for reading in grid]
    print(f"  GRID clip, asking to reading shown: {seconds_summary(grid_seconds)}")
    if grid:
        within = sum(seconds <= GRID_TARGET_SECONDS for seconds in grid_seconds)
        print(f"    within {GRID_TARGET_SECONDS:.0f} s: {within}/{len(grid)} "
              f"({'target met' if within == len(grid) else 'target MISSED'}); served from the precomputed "
              f"readings: {sum(bool(reading.precomputed) for reading in grid)}/{len(grid)}")
    uploads = [reading for reading in readings if reading.kind == "upload"]
    upload_seconds = [reading.seconds for reading in uploads if reading.seconds is not None]
    print(f"  upload, file chosen to reading shown: {seconds_summary(upload_seconds)}")
    for reading in uploads:
        seconds = f"{reading.seconds:.2f} s" if reading.seconds is not None else "no reading"
        print(f"    {reading.what}: {seconds}; queue: "
              f"{repr(reading.queue_text) if reading.queue_text else 'no queue shown'}")
    print_errors(sessions + ([warm] if warm is not None else []))

    print("\n-- Server --")
    found = tracebacks(log_text)
    print(f"  tracebacks in the server log: {len(found)}")
    for block in found[:5]:
        print(f"    {block}")
    print(f"  server memory (Pss of the process and its children; most processes seen: "
          f"{figures.get('processes most', 1)}):")
    if "rss before" in figures:
        print(f"    before any page: {mib(figures['rss before'])}")
    if "rss after warm-up page" in figures:
        print(f"    the warm-up page shown (model loaded): {mib(figures['rss after warm-up page'])}")
    if "rss after warm-up" in figures:
        print(f"    start (then the server's own warm-up of a live reading, memory steady): "
              f"{mib(figures['rss after warm-up'])}")
    if "rss peak classroom" in figures:
        start, peak = figures["rss after warm-up"], figures["rss peak classroom"]
        print(f"    peak during the classroom: {mib(peak)} (+{mib(peak - start)} over the start with "
              f"{len(sessions)} sessions)")
    if "rss after classroom closed" in figures:
        start, after = figures["rss after warm-up"], figures["rss after classroom closed"]
        near = after <= start * (1 + NEAR_START)
        print(f"    {arguments.settle:.0f} s after the sessions closed: {mib(after)} "
              f"({(after - start) / MIB:+.0f} MiB; {'within' if near else 'NOT within'} {NEAR_START:.0%} of the start)")

    for number, later in enumerate(figures.get("later classes", []), start=2):
        done = [r for session in later["sessions"] for r in session.readings if r.error is None and r.seconds]
        failed = sum(bool(session.error or any(r.error for r in session.readings)) for session in later["sessions"])
        print(f"  class {number} (new clips, same server): {len(later['sessions']) - failed}/{len(later['sessions'])} "
              f"sessions with their reading; GRID {seconds_summary([r.seconds for r in done if r.kind == 'grid'])}; "
              f"peak {mib(later['rss peak classroom'])}; {arguments.settle:.0f} s after it closed: "
              + (mib(later["rss after classroom closed"]) if "rss after classroom closed" in later else "-"))
        print_errors(later["sessions"])

    samples = figures.get("loop samples")
    if samples is not None and "rss peak loop" in figures:
        loop_readings = [reading for session in loop_sessions for reading in session.readings]
        done = [reading for reading in loop_readings if reading.error is None and reading.seconds is not None]
        print(f"\n-- Loop: {arguments.loop_readings} readings by {arguments.loop_sessions} sessions "
              f"(an upload every {arguments.loop_upload_every or 'never'}) --")
        print(f"  readings done: {len(done)}/{arguments.loop_readings}"
              + (f" in {figures['loop seconds']:.1f} s" if "loop seconds" in figures else ""))
        for session in loop_sessions:
            for problem in filter(None, [session.error] + [reading.error for reading in session.readings]):
                print(f"    loop session {session.number}: {problem}")
        print(f"  GRID readings: {seconds_summary([r.seconds for r in done if r.kind == 'grid'])}; "
              f"uploads: {seconds_summary([r.seconds for r in done if r.kind == 'upload'])}")
        print("  server memory by readings done: " + ", ".join(f"{count}: {mib(value)}" for count, value in samples))
        print(f"  peak during the loop: {mib(figures['rss peak loop'])} "
              f"(then: {figures['loop peak activity'] or 'no loop reading under way'}); "
              f"{arguments.settle:.0f} s after its sessions closed: {mib(figures['rss after loop closed'])}")
        print(f"  {figures['loop cpu']}")
        if len(samples) >= 3:
            middle, last = samples[1], samples[-1]
            growth = (last[1] - middle[1]) / max(last[0] - middle[0], 1) * 100
            print(f"  growth from reading {middle[0]} to {last[0]}: {growth / MIB:+.1f} MiB per 100 readings")
        print_errors(loop_sessions)

    stacks = log_text.count("Thread 0x") + log_text.count("Current thread 0x")
    if stacks:
        print(f"  Python stacks of the server's {stacks} threads were written to its log when sessions failed")
    if figures.get("artifacts"):
        print(f"  server log and screenshots of failed pages kept in {figures['artifacts']}")

    print("\n-- Files --")
    status_before, status_after, parent_before, parent_after, touched, outside = repository_checks
    new_status = sorted(status_after - status_before)
    print(f"  git status --porcelain --ignored, new lines since the start: {len(new_status)}"
          + ("" if not new_status else " (other people edit this tree too):"))
    for line in new_status:
        print(f"    {line}")
    print(f"  files in the repository modified during the run (.git and .venv aside): {len(touched)}"
          + ("" if not touched else " (other people edit this tree too):"))
    for path in touched[:20]:
        print(f"    {path}")
    new_entries = sorted(parent_after - parent_before)
    print(f"  new entries in {REPO_ROOT.parent}: {new_entries or 'none'}")
    print(f"  files written anywhere outside {tempfile.gettempdir()} during the run (find / -xdev -newer, .git "
          f"aside): {len(outside)}" + (" (other work on this machine, and Chromium's own profile, included):"
                                       if outside else ""))
    for path in outside[:20]:
        print(f"    {path}")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="browser sessions at once (default 20)")
    parser.add_argument("--uploads", type=int, default=4, help="how many of them upload a clip (default 4)")
    parser.add_argument("--loop-readings", type=int, default=200, help="readings in the memory loop; 0: none")
    parser.add_argument("--loop-sessions", type=int, default=2, help="sessions sharing the loop (default 2)")
    parser.add_argument("--loop-upload-every", type=int, default=10, help="every Nth loop reading is an upload of "
                        "a speaker-4 clip (default 10; 0: GRID clips only)")
    parser.add_argument("--sample-every", type=int, default=50, help="loop readings between memory notes")
    parser.add_argument("--deep-link", action="store_true", help="open /try_it_out by its address rather than "
                        "through the front page's sidebar (Streamlit then asks for /try_it_out/_stcore/health and "
                        "host-config first: two 404s in the console, streamlit/streamlit#7074)")
    parser.add_argument("--classes", type=int, default=1, help="classes one after another on the same server, "
                        "each with new clips, to see whether memory after a class stays put (default 1)")
    parser.add_argument("--together", action="store_true", help="every session asks for its own reading at the "
                        "same moment, once all pages are open (default: each as soon as its own page is open, while "
                        "the other browsers may still be starting on the same cores)")
    parser.add_argument("--animate-gifs", action="store_true", help="let every page loop its GIFs (default: "
                        "animate once, so twenty browsers on the server's own cores do not spend them on GIFs)")
    parser.add_argument("--keep-artifacts", action="store_true", help="keep the server log even when all went well")
    parser.add_argument("--port", type=int, default=None, help="server port (default: a free one)")
    parser.add_argument("--data-dir", default=os.environ.get(DATA_DIR_VARIABLE),
                        help=f"GRID data (default ${DATA_DIR_VARIABLE})")
    parser.add_argument("--session-timeout", type=float, default=300.0, help="seconds before a session fails")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds to wait after sessions close before "
                        "measuring memory (default 15)")
    arguments = parser.parse_args()
    if not arguments.data_dir:
        parser.error(f"give --data-dir or set ${DATA_DIR_VARIABLE}")
    if (not 0 <= arguments.uploads <= arguments.sessions or arguments.loop_sessions < 1 or arguments.sample_every < 1
            or arguments.classes < 1):
        parser.error("need 0 <= --uploads <= --sessions, and --loop-sessions, --sample-every, --classes >= 1")
    arguments.data_dir = str(Path(arguments.data_dir).resolve())
    return arguments


def main() -> None:
    arguments = parse_arguments()
    figures: dict = {"load before": load_average()}
    status_before, parent_before = repository_state()
    run_started = time.time()
    handle, marker_name = tempfile.mkstemp(prefix="lipnet-load-test-start-")  # its time says when the run began
    os.close(handle)
    marker = Path(marker_name)
    port = arguments.port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    scratch = tempfile.mkdtemp(prefix="lipnet-load-test-")  # outside the repository; kept when something failed
    log_path = Path(scratch) / "streamlit.log"
    with log_path.open("w") as log_file:
        server = start_server(port, arguments.data_dir, log_file)
        sampler = MemorySampler(server.pid)
        try:
            wait_for_health(base_url, server)
            figures["rss before"] = sampler.now()
            sampler.start()
            print(f"server up at {base_url} (pid {server.pid}); running {arguments.sessions} sessions…",
                  flush=True)
            asyncio.run(run_phases(arguments, base_url, server, sampler, figures, Path(scratch)))
        except Exception as error:  # still report what was measured, and always stop the server
            figures["fatal"] = f"{type(error).__name__}: {error}"
            traceback.print_exc()
        finally:
            sampler.stop()
            stop_server(server)
    log_text = log_path.read_text(errors="replace")
    figures["artifacts"] = scratch
    failed = any(session.error or any(reading.error for reading in session.readings)
                 for session in figures.get("sessions", []) + figures.get("loop sessions", [])
                 + [session for later in figures.get("later classes", []) for session in later["sessions"]])
    if not failed and "fatal" not in figures and not tracebacks(log_text) and not arguments.keep_artifacts:
        shutil.rmtree(scratch, ignore_errors=True)
        figures["artifacts"] = None
    status_after, parent_after = repository_state()
    checks = (status_before, status_after, parent_before, parent_after, files_touched_since(run_started),
              written_outside_temp(marker))
    marker.unlink()
    report(arguments, figures, log_text, checks)


if __name__ == "__main__":
    main()
