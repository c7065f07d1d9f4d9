"""A classroom at once: many sessions on Try it out against one `streamlit run app.py`.

    LIPNET_DATA_DIR=../shared/grid .venv/bin/python scripts/load_test.py [--sessions 20] [--uploads 4] [--together]
        [--spread S] [--light N] [--classes 1] [--loop-readings 200] [--animate-gifs] [--port P] [--data-dir DIR]

Starts the server itself (as ./start.sh does, with MALLOC_ARENA_MAX=2), opens one page so that the model loads, waits
for the server's own warm-up of a live reading to settle (the "start" memory), then opens ``--sessions`` Playwright
contexts of one Chromium at once. Each opens Try it out, waits for its first reading, then (at once, or with
``--together`` when every page is open, as when a teacher says "now"; with ``--spread S`` too, one after another over
S seconds) either picks its own held-out GRID clip or (``--uploads`` of them) uploads a copy of a GRID clip's bytes as
``clip.mp4``, alternately of speaker 1 and of speaker 4. ``--classes`` runs such classes one after another with new
clips, to see whether memory after a class stays put. A last phase has ``--loop-sessions`` sessions read
``--loop-readings`` clips one after another (an upload every ``--loop-upload-every``) while the server's memory is
sampled, to show whether it grows.

Reports errors (browser console, page errors, Streamlit exceptions and error boxes, tracebacks in the server log),
the seconds from asking to each reading shown, whether a queue was shown to waiting uploads, the server's resident
memory (its process and any children, from /proc) at start, peak and after the sessions close, and every file the
run wrote outside the system's temporary folder. Prints figures; asserts nothing. The browsers share the machine's
cores with the server, so the times include their rendering of every page; they animate GIFs once (see ANIMATE_ONCE).
``--light N`` makes N of the sessions light clients (``classroom_load/light_client.py``): they ask the server what a
browser asks, fetch the page's images and video, but draw nothing, as when each pupil's own device draws their page.

The parts live in ``classroom_load/``: the server and its memory and CPU (``server.py``), a pupil in Chromium
(``browser.py``) or over the websocket (``light_client.py``), what a pupil did (``sessions.py``), and what the run
left behind (``checks.py``).
"""

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

from classroom_load.browser import (  # noqa: E402
    ANIMATE_ONCE,
    CHROMIUM,
    CHROMIUM_ARGS,
    classroom_session,
    look_at_failures,
    looping_session,
    new_page,
    open_try_it_out,
)
from classroom_load.checks import (  # noqa: E402
    files_touched_since,
    load_average,
    machine_description,
    repository_state,
    tracebacks,
    written_outside_temp,
)
from classroom_load.light_client import light_classroom_session  # noqa: E402
from classroom_load.server import (  # noqa: E402
    MIB,
    CpuMeter,
    MemorySampler,
    dump_server_stacks,
    free_port,
    mib,
    start_server,
    stop_server,
    wait_for_health,
)
from classroom_load.sessions import OpenBarrier, Session  # noqa: E402

from lipnet_core.dataset import DATA_DIR_VARIABLE, list_clips, load_split  # noqa: E402
from lipnet_core.paths import DEFAULT_WEIGHTS, SPLIT_PATH  # noqa: E402

GRID_TARGET_SECONDS = 5.0
NEAR_START = 0.10  # "memory returns near its starting level": within 10 % of it


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
        all_open = OpenBarrier(len(sessions), arguments.spread) if arguments.together else None
        browsers = arguments.sessions - arguments.light  # the first ones in Chromium, the rest light clients
        await asyncio.gather(*(
            classroom_session(browser, base_url, session, task, truths, arguments.session_timeout, contexts,
                              arguments.deep_link, started, all_open) if index < browsers else
            light_classroom_session(base_url, session, task, truths, arguments.session_timeout, started, all_open)
            for index, (session, task) in enumerate(zip(sessions, plan))))
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

    asking = "each asks once its page is open"
    if arguments.together:
        asking = (f"once every page is open they ask one by one over {arguments.spread:g} s" if arguments.spread
                  else "all ask together once every page is open")
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
        print(f"    {session.number:2d} {session.task:<34} {opened} | {asked} | {shown}")
    opened = [session.open_seconds for session in sessions if session.open_seconds is not None]
    print(f"  opening the app to Try it out's first reading: {seconds_summary(opened)}")
    grid = [reading for reading in readings if reading.kind == "grid" and reading.seconds is not None]
    grid_seconds = [reading.seconds for reading in grid]
    print(f"  GRID clip, asking to reading shown: {seconds_summary(grid_seconds)}")
    if arguments.light and arguments.light < arguments.sessions:
        for who, light in (("in Chromium", False), ("light clients", True)):
            part = [r.seconds for session in sessions if session.task.endswith("(light)") == light
                    for r in session.readings if r.kind == "grid" and r.seconds is not None]
            print(f"    of them {who}: {seconds_summary(part)}")
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
        grid_seconds = [r.seconds for r in done if r.kind == "grid"]
        within = sum(seconds <= GRID_TARGET_SECONDS for seconds in grid_seconds)
        print(f"  class {number} (new clips, same server): {len(later['sessions']) - failed}/{len(later['sessions'])} "
              f"sessions with their reading; GRID {seconds_summary(grid_seconds)}, within {GRID_TARGET_SECONDS:.0f} s: "
              f"{within}/{len(grid_seconds)}; "
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
    parser.add_argument("--light", type=int, default=0, help="how many of the sessions are light clients: "
                        "Streamlit's own protocol over a websocket, no browser drawing the page (the pupils' own "
                        "devices in a classroom); the first --sessions minus --light sessions use Chromium (default 0)")
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
    parser.add_argument("--spread", type=float, default=0.0, help="with --together: once all pages are open the "
                        "sessions ask one after another, evenly over this many seconds in a shuffled order, instead "
                        "of in the same second (default 0)")
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
    if (not 0 <= arguments.uploads <= arguments.sessions or not 0 <= arguments.light <= arguments.sessions
            or arguments.loop_sessions < 1 or arguments.sample_every < 1
            or arguments.classes < 1):
        parser.error("need 0 <= --uploads, --light <= --sessions, and --loop-sessions, --sample-every, --classes >= 1")
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
