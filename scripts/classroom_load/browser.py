"""A pupil in Chromium (a Playwright context): opens Try it out, picks a GRID clip or uploads one, and notes console
errors, error boxes and any queue message on the way."""

import asyncio
import json
import re
import time
from pathlib import Path

from classroom_load.sessions import OpenBarrier, Reading, Session, failure, open_then_wait, run_as_result, task_label

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


async def classroom_session(browser, base_url: str, session: Session, task: tuple, truths: dict,
                            timeout_s: float, contexts: list, deep_link: bool, phase_start: float,
                            all_open: "OpenBarrier | None" = None) -> None:
    """One pupil: open Try it out, wait for the first reading, then read their own clip or upload one (with
    ``all_open``, only once every session has its page open: the teacher says "now pick a clip")."""
    timeout_ms = timeout_s * 1000
    kind, what = task
    session.task = task_label(task)

    async def open_page() -> None:
        context, page = await new_page(browser, session, timeout_ms)
        contexts.append(context)
        session.page = page
        session.open_seconds, _ = await open_try_it_out(page, base_url, timeout_ms, deep_link)

    async def steps() -> None:
        await open_then_wait(open_page, all_open)
        page = session.page
        session.asked_at = time.monotonic() - phase_start
        if kind == "grid":
            session.readings.append(await read_grid_clip(page, what, truths[what], timeout_ms))
        else:
            await choose_source(page, "Upload a clip", timeout_ms)
            session.readings.append(await upload_clip(page, what, timeout_ms))
        if await page.get_by_test_id("stException").count():
            session.error = f"exception on the page: {await problem_text(page)}"

    await run_as_result(steps, session, timeout_s)


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
