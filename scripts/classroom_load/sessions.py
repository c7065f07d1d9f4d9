"""What a pupil did and saw, whichever way it reached the server (a Chromium page or the light client)."""

import asyncio
import random
from dataclasses import dataclass, field


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



class OpenBarrier:
    """Lets the sessions ask together once every one of them has opened its page (or failed to). With ``spread_s``,
    they ask one after another instead, at even intervals over that many seconds in a shuffled order (a class told
    "now pick a clip" that picks within half a minute)."""

    def __init__(self, count: int, spread_s: float = 0.0, seed: int = 0):
        self.remaining, self.event = count, asyncio.Event()
        self.delays = [spread_s * index / count for index in range(count)]
        random.Random(seed).shuffle(self.delays)

    def arrive(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self.event.set()

    async def wait(self) -> None:
        await self.event.wait()
        await asyncio.sleep(self.delays.pop() if self.delays else 0.0)


def task_label(task: tuple) -> str:
    """What a pupil reads, for the report: "grid <clip id>" or "upload <speaker folder>/<file>"."""
    kind, what = task
    return f"{kind} {what if kind == 'grid' else f'{what.parent.name}/{what.name}'}"


async def open_then_wait(open_page, all_open: "OpenBarrier | None") -> None:
    """Await ``open_page()``; with ``all_open``, then arrive (even when opening failed, so nobody waits for this
    session) and wait for every other session to have opened."""
    try:
        await open_page()
    finally:
        if all_open is not None:
            all_open.arrive()
    if all_open is not None:
        await all_open.wait()


async def run_as_result(steps, session: Session, timeout_s: float) -> None:
    """Await ``steps()`` within ``timeout_s``; a failure becomes the session's error, not the end of the test."""
    try:
        await asyncio.wait_for(steps(), timeout=timeout_s)
    except Exception as error:
        session.error = failure(error, timeout_s)
