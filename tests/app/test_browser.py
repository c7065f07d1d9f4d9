"""End to end in a real browser: `streamlit run app.py`, Debian's Chromium driven by Playwright.

Try it out: reads a GRID clip, selects another and the first again, uploads a file that is not a video through the
real file input. Teach it your face: Chromium's fake camera plays a clip of GRID speaker 4; the test records three
sentences, adapts (two epochs, so CI stays quick) and has a new recording read by both networks. Both save
screenshots and print timings (run with ``-s`` to see them).
"""

import re
import subprocess
import time
from pathlib import Path

import pytest

from lipnet_core.alignments import load_alignment
from lipnet_core.paths import DEFAULT_WEIGHTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
WAIT_MS = 180_000

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="no browser: apt-get install -y chromium"),
              pytest.mark.slow]
sync_playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").sync_playwright


def wait_until_idle(page) -> None:
    """Wait for the script run to finish (Streamlit shows a status widget while it runs)."""
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=WAIT_MS)


def choose_clip(page, clip_id: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text="GRID clip").locator("input").click()
    page.keyboard.type(clip_id)
    page.keyboard.press("Enter")


def test_try_it_out_in_chromium(server, grid_dir, tmp_path):
    base_url, started = server
    timings = {}
    trained = DEFAULT_WEIGHTS.exists()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            console_errors, failed_requests = [], []
            page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
            page.on("response", lambda response: response.status >= 400 and failed_requests.append(
                f"{response.status} {response.request.method} {response.url}"))
            page.goto(base_url)
            page.get_by_role("heading", name="Reading lips with LipNet").wait_for(timeout=WAIT_MS)
            timings["cold start to About page"] = time.monotonic() - started
            page.get_by_role("heading", name="Honest limits").wait_for(timeout=WAIT_MS)
            page.get_by_test_id("stSidebar").get_by_role("button", name="New sentence").wait_for(timeout=WAIT_MS)
            page.screenshot(path=tmp_path / "about.png", full_page=True)

            clicked = time.monotonic()
            page.get_by_test_id("stSidebarNav").get_by_text("Try it out").click()
            page.get_by_text(" frames at 25 fps").first.wait_for(timeout=WAIT_MS)
            timings["Try it out, model loaded and first clip shown"] = time.monotonic() - clicked
            wait_until_idle(page)
            first_clip = page.get_by_text(" frames at 25 fps").first.inner_text().split(":")[0]

            def show(clip_id: str) -> float:
                chosen = time.monotonic()
                choose_clip(page, clip_id)
                page.get_by_text(f"{clip_id}: ").first.wait_for(timeout=WAIT_MS)
                if trained:
                    truth = load_alignment(grid_dir / "alignments" / "s1" / f"{clip_id}.align").sentence
                    # The whole line, not the bare sentence: a decoder that reads the clip right shows it too.
                    page.get_by_text(f"Ground truth (from the clip's alignment): {truth}", exact=True).wait_for(
                        timeout=WAIT_MS
                    )
                    page.get_by_role("heading", name="What the model read").wait_for(timeout=WAIT_MS)
                else:
                    page.get_by_text("No trained weights are present").wait_for(timeout=WAIT_MS)
                seconds = time.monotonic() - chosen
                wait_until_idle(page)
                return seconds

            timings["new held-out GRID clip to result (model warm)"] = show("bgauzp")
            timings["re-selecting a clip (cached)"] = show(first_clip)
            if trained:
                assert page.get_by_role("heading", name="Per-frame class probabilities").is_visible()
            else:
                assert not page.get_by_role("heading", name="What the model read").is_visible()
            assert page.locator('[data-testid="stImage"] img').count() >= 2, "boxed frame and mouth GIF"
            assert page.locator("video").count() == 1
            page.screenshot(path=tmp_path / "try_it_out.png", full_page=True)

            page.get_by_test_id("stRadio").get_by_text("Upload a clip").click()
            page.locator('input[type="file"]').set_input_files(
                files=[{"name": "notes.mp4", "mimeType": "video/mp4", "buffer": b"these are notes, not a video\n"}]
            )
            error = page.get_by_test_id("stAlertContentError")
            error.wait_for(timeout=WAIT_MS)
            assert "not a video" in error.inner_text()
            assert not page.get_by_test_id("stException").count(), "no traceback on the page"
            page.screenshot(path=tmp_path / "upload_error.png", full_page=True)
            # Streamlit drops the previous run's media files when a clip is re-shown; the browser may still ask for
            # one of them (a 404 under /media/) before the new images replace it. Only that is let through, and
            # every image on the page at the end must have loaded.
            stale_media = [request for request in failed_requests if request.startswith("404 GET ")
                           and "/media/" in request]
            not_found = [error for error in console_errors if "status of 404 (Not Found)" in error]
            assert len(stale_media) == len(failed_requests) and len(not_found) <= len(stale_media), (
                console_errors, failed_requests)
            stale_urls = {request.split(" ", 2)[2] for request in stale_media}
            told = [error for error in console_errors if error.startswith("Client Error: Image source error - ")
                    and error.rsplit(" - ", 1)[1] in stale_urls]  # Streamlit's own note of the same stale image
            assert not [error for error in console_errors if error not in not_found + told], console_errors
            assert page.locator('[data-testid="stImage"] img').evaluate_all(
                "images => images.every(image => image.complete && image.naturalWidth > 0)"), "an image did not load"
        finally:
            browser.close()
    print(f"\nscreenshots in {tmp_path}; stale media requests let through: {len(stale_media)}")
    for name, seconds in timings.items():
        print(f"{name}: {seconds:.2f} s")


def fake_camera_file(source: Path, destination: Path) -> Path:
    """A Y4M file of ``source`` for Chromium's fake camera (which loops it), made with the bundled ffmpeg."""
    from lipnet_core.video import ffmpeg_executable

    subprocess.run([ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
                    "-pix_fmt", "yuv420p", "-r", "25", str(destination)], check=True, timeout=120)
    return destination


def test_teach_it_your_face_in_chromium_with_a_fake_camera(server, grid_dir, tmp_path):
    source = grid_dir / "s4" / "bbaf2a.mp4"
    if not source.is_file():
        pytest.skip(f"no clip of GRID speaker 4 at {source}")
    camera = fake_camera_file(source, tmp_path / "camera.y4m")
    base_url, _ = server
    timings = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 3000})
            page.goto(f"{base_url}/teach_your_face")
            page.get_by_text("Camera on.").first.wait_for(timeout=WAIT_MS)
            for sentence in range(1, 4):
                started = time.monotonic()
                page.locator(".recorder").first.get_by_role("button").click()
                kept = page.get_by_text(f"Kept sentence {sentence}:")
                kept.wait_for(timeout=WAIT_MS)
                frames = int(kept.inner_text().split(": ", 1)[1].split()[0])
                assert 70 <= frames <= 80, f"a 3 s recording at 25 fps has about 75 frames, not {frames}"
                timings[f"sentence {sentence}: countdown, 3 s recording, kept"] = time.monotonic() - started
                wait_until_idle(page)
                page.get_by_role("button", name="Next").click()
                wait_until_idle(page)
            # The rerun after "Next" may start late: wait for the count rather than look once.
            page.get_by_text("3 of 10 sentences recorded").wait_for(timeout=WAIT_MS)
            page.screenshot(path=tmp_path / "teach_recorded.png", full_page=True)

            started = time.monotonic()
            page.get_by_role("button", name="Adapt to my face").click()
            page.get_by_text(re.compile(r"^Adapted on 3 of your clips")).wait_for(timeout=WAIT_MS)
            timings["adapting (2 epochs)"] = time.monotonic() - started
            wait_until_idle(page)
            page.screenshot(path=tmp_path / "teach_adapted.png", full_page=True)
            page.get_by_text("Download your adapted weights").wait_for(timeout=WAIT_MS)

            started = time.monotonic()
            page.locator(".recorder").nth(1).get_by_text("Camera on.").wait_for(timeout=WAIT_MS)
            page.locator(".recorder").nth(1).get_by_role("button").click()
            page.get_by_text("You said:").wait_for(timeout=WAIT_MS)
            timings["read me: recording read by both networks"] = time.monotonic() - started
            wait_until_idle(page)
            # The two columns arrive one after the other within the run: wait for each (a busy machine once showed
            # the first column before the second had arrived, the status widget already gone).
            page.get_by_role("heading", name="Published network (speaker 1)").wait_for(timeout=WAIT_MS)
            page.get_by_role("heading", name="Adapted to you").wait_for(timeout=WAIT_MS)
            assert not page.get_by_test_id("stException").count(), "no traceback on the page"
            page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').nth(1).wait_for(
                timeout=WAIT_MS)  # both heat maps drawn
            page.screenshot(path=tmp_path / "teach_read_me.png", full_page=True)
        finally:
            browser.close()
    print(f"\nscreenshots in {tmp_path}")
    for name, seconds in timings.items():
        print(f"{name}: {seconds:.2f} s")


PAGE_ENDINGS = {  # the sidebar's name for each page: a text near its end, shown once its script has run
    "About": "arXiv:1611.01599",
    "Architecture": "Output shapes read",
    "Metrics": "Published figures are copied from their sources",
    "Try it out": "Time per stage",
    "Human vs machine": "Scoreboard",
    "Teach it your face": "3. Read me",
}


def test_every_page_at_projector_width_has_no_console_error_and_fetches_nothing_from_outside(server, tmp_path):
    """Each page at 1366 px: no browser console error, no request leaving this machine (a classroom may have no
    internet), nothing wider than the window. Load times are printed, not asserted."""
    base_url, _ = server
    errors, outside, timings = [], [], {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.on("response", lambda response: response.status >= 400 and errors.append(
                f"{response.status} {response.url}"))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                    or outside.append(request.url))
            page.goto(base_url)
            for name, ending in PAGE_ENDINGS.items():
                started = time.monotonic()
                page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
                page.get_by_text(ending).first.wait_for(timeout=WAIT_MS)
                wait_until_idle(page)
                timings[name] = time.monotonic() - started
                page.screenshot(path=tmp_path / f"{name.replace(' ', '_').lower()}_1366.png", full_page=True)
                assert not page.get_by_test_id("stException").count(), f"traceback on {name}"
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{name} is {overflow} px wider than a 1366 px window"
        finally:
            browser.close()
    print(f"\nscreenshots in {tmp_path}")
    for name, seconds in timings.items():
        print(f"{name}: {seconds:.2f} s from the click to the page complete")
    assert not errors, errors
    assert not outside, outside
