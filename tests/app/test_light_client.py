"""The load test's light client (scripts/classroom_load/light_client.py) against the real server: it must see what
a browser sees, or the load test's figures would be about nothing."""

import asyncio

import pytest
from classroom_load.light_client import LightSession  # scripts/ is on the path (tests/app/conftest.py)

from lipnet_core.dataset import list_clips, load_split
from lipnet_core.paths import SPLIT_PATH

pytestmark = pytest.mark.slow


def test_a_light_session_reads_a_grid_clip_and_is_refused_a_file_that_is_not_a_video(server, grid_dir):
    base_url, _ = server
    clips = {clip.clip_id: clip for clip in list_clips(grid_dir)}
    clip_id = [clip_id for clip_id in load_split(SPLIT_PATH)["test"] if clip_id in clips][1]

    async def session() -> tuple:
        client = LightSession(base_url, "try_it_out")
        try:
            await client.open()
            opened = await client.wait_for_text_containing(" frames at 25 fps", timeout_s=180)
            await client.wait_until_finished(timeout_s=180)
            await client.choose("clip", clip_id)
            read = await client.wait_for_text_containing(
                f"Ground truth (from the clip's alignment): **{clips[clip_id].sentence()}**", timeout_s=180)
            await client.wait_until_finished(timeout_s=180)
            caption = [text for text in client.state.texts if text.startswith(f"{clip_id}: ")]
            media_bytes = await asyncio.to_thread(client.fetch_media)
            await client.choose("source", "Upload a clip")
            await client.wait_until_finished(timeout_s=180)
            await client.upload("upload", "clip.mp4", b"this is not a video")
            refused = await client.wait_for_text_containing("clip.mp4", timeout_s=180)
            return opened, read, caption, media_bytes, refused, client.state.problems
        finally:
            await client.close()

    opened, read, caption, media_bytes, refused, problems = asyncio.run(session())

    assert (opened, read) == ("text", "text")
    assert caption and "75 frames" in caption[0]
    assert media_bytes > 10_000  # the video, the boxed frame and the mouth GIF
    assert refused == "problem" and len(problems) == 1
