"""How long Try it out takes to show a new GRID clip: script time (AppTest) and time in a real browser (Chromium).

    LIPNET_DATA_DIR=../shared/grid .venv/bin/python scripts/benchmark_app.py [--clips 10] [--live] [--no-browser]

Each measured clip is a held-out clip not shown before in that session (nothing cached for it yet). With the
precomputed readings of the weights in use (``models/readings/``, ``python -m lipnet_core precompute``) the
network is not run; ``--live`` also measures the same clips with them hidden, i.e. running the network. The
browser time runs from choosing the clip in the select box to the page showing its reading and ground truth.
Prints figures; asserts nothing.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
CHROMIUM = "/usr/bin/chromium"
PAGE = "app_pages/try_it_out.py"


def held_out_clip_ids() -> list[str]:
    from lipnet_core.dataset import load_split
    from lipnet_core.paths import SPLIT_PATH

    return list(load_split(SPLIT_PATH)["test"])


def script_seconds(clip_ids: list[str], hide_precomputed: bool) -> list[float]:
    """AppTest: the whole script run (app.py and the page) after choosing each clip."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import lipnet_core.precomputed as precomputed

    st.cache_data.clear()
    st.cache_resource.clear()
    if hide_precomputed:
        precomputed.READINGS_DIR = Path(tempfile.mkdtemp(prefix="lipnet-no-readings-"))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=600)
    app.run()
    app.switch_page(PAGE)
    app.run()  # loads the model and reads the first clip
    seconds = []
    for clip_id in clip_ids:
        started = time.perf_counter()
        app.selectbox(key="clip").set_value(clip_id).run()
        seconds.append(time.perf_counter() - started)
        if app.exception or app.error:
            raise RuntimeError(f"{clip_id}: {app.exception or app.error}")
    return seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def browser_seconds(clip_ids: list[str]) -> tuple[float, list[float]]:
    """Chromium through Playwright: (seconds to the first clip's reading, seconds per new clip)."""
    from playwright.sync_api import sync_playwright

    from lipnet_core.dataset import data_dir, list_clips

    truths = {clip.clip_id: clip.sentence() for clip in list_clips(data_dir())}
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless",
             "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base_url = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                started = time.perf_counter()
                page.goto(f"{base_url}/try_it_out")
                page.get_by_role("heading", name="What the model read").wait_for(timeout=600_000)
                first = time.perf_counter() - started
                seconds = []
                for clip_id in clip_ids:
                    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=600_000)
                    box = page.get_by_test_id("stSelectbox").filter(has_text="GRID clip").locator("input")
                    box.click()
                    page.keyboard.type(clip_id)
                    chosen = time.perf_counter()
                    page.keyboard.press("Enter")
                    page.get_by_text(f"{clip_id}: ").first.wait_for(timeout=600_000)
                    page.get_by_text(f"{truths[clip_id]}", exact=True).first.wait_for(timeout=600_000)
                    page.get_by_role("heading", name="What the model read").wait_for(timeout=600_000)
                    seconds.append(time.perf_counter() - chosen)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return first, seconds


def describe(name: str, seconds: list[float]) -> None:
    print(f"{name}: median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s over {len(seconds)} clips")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=10, help="new held-out clips to measure (default 10)")
    parser.add_argument("--live", action="store_true", help="also measure with the precomputed readings hidden")
    parser.add_argument("--no-browser", action="store_true", help="AppTest only")
    arguments = parser.parse_args()
    clip_ids = held_out_clip_ids()
    measured = clip_ids[1 : arguments.clips + 1]  # the first is what the page opens with
    describe("AppTest script time per new held-out clip (precomputed readings)", script_seconds(measured, False))
    if arguments.live:
        describe("AppTest script time per new held-out clip (network run live)",
                 script_seconds(clip_ids[arguments.clips + 1 : 2 * arguments.clips + 1], True))
    if not arguments.no_browser:
        first, seconds = browser_seconds(clip_ids[2 * arguments.clips + 1 : 3 * arguments.clips + 1])
        print(f"Chromium: Try it out opened on a fresh server (model load included) in {first:.1f} s")
        describe("Chromium: choosing a new held-out clip to its reading shown (precomputed readings)", seconds)


if __name__ == "__main__":
    main()
