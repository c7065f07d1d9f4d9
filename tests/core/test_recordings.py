"""Webcam recordings that cannot teach the network anything are refused with one sentence about recording."""

import subprocess

import numpy as np
import pytest

from lipnet_core.demo.recordings import save_recording
from lipnet_core.errors import ClipError, FaceNotFoundError
from lipnet_core.video import ffmpeg_executable, read_clip


def webm_recording(frames_bgr: np.ndarray, fps: float) -> bytes:
    """(T, H, W, 3) uint8 frames as the VP8 WebM a browser's MediaRecorder writes."""
    height, width = frames_bgr.shape[1:3]
    completed = subprocess.run([
        ffmpeg_executable(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}",
        "-r", f"{fps:g}", "-i", "-", "-c:v", "libvpx", "-b:v", "1M", "-f", "webm", "-",
    ], input=np.ascontiguousarray(frames_bgr).tobytes(), capture_output=True, check=True, timeout=120)  # fmt: skip
    return completed.stdout


def test_an_empty_recording_is_refused(tmp_path):
    with pytest.raises(ClipError, match=r"^The recording is empty \(nothing was recorded\); allow the camera and "
                                        r"record again\.$"):
        save_recording(b"", "video/webm;codecs=vp8", tmp_path / "take.mp4")


def test_a_recording_stopped_before_its_first_frame_is_refused(tmp_path, pattern_frames):
    whole = webm_recording(pattern_frames(30, 120, 160), fps=30)
    header_only = whole[: whole.index(bytes.fromhex("1F43B675"))]  # up to the first Cluster: tracks, no frame
    with pytest.raises(ClipError, match=r"^The recording could not be read \(no video in it, or it was cut off\); "
                                        r"record again\.$"):
        save_recording(header_only, "video/webm", tmp_path / "take.mp4")
    assert not (tmp_path / "take.mp4").exists()


def test_a_half_second_recording_is_refused_with_its_length(tmp_path, pattern_frames):
    data = webm_recording(pattern_frames(15, 120, 160), fps=30)  # 0.5 s
    with pytest.raises(ClipError) as refused:
        save_recording(data, "video/webm", tmp_path / "take.mp4")
    message = str(refused.value)
    assert message.startswith("The recording is only 0.5") and "record again and say the whole sentence" in message
    assert message.endswith("(recordings of 1 to 12 s are read).") and "\n" not in message


def test_a_recording_of_one_second_or_more_is_kept(tmp_path, pattern_frames):
    clip = read_clip(save_recording(webm_recording(pattern_frames(36, 120, 160), fps=30), "video/webm",
                                    tmp_path / "take.mp4"))  # 1.2 s
    assert clip.num_frames == 30 and clip.source_fps == pytest.approx(25.0)


@pytest.mark.slow
def test_a_recording_without_a_face_is_refused_and_not_kept(pattern_frames):
    from lipnet_core.demo.teach import TeachSession

    session = TeachSession.start(seed=0, count=3)
    try:
        with pytest.raises(FaceNotFoundError, match=r"^No face was found in the clip; film the speaker's face from "
                                                    r"the front, well lit\.$"):
            session.add_recording(0, webm_recording(pattern_frames(60, 240, 320), fps=30), "video/webm")
        assert session.clips == {}
    finally:
        session.workspace.remove()
