"""Clips the browser cannot play become H.264 MP4; H.264 MP4 passes through unchanged."""

import cv2
import pytest

from lipnet_core.demo.playback import browser_playable, browser_playable_bytes, is_browser_playable, video_codec
from lipnet_core.errors import ClipError


def decoded_frames(data: bytes, tmp_path) -> tuple[int, tuple[int, int]]:
    path = tmp_path / "decoded.mp4"
    path.write_bytes(data)
    capture = cv2.VideoCapture(str(path))
    count, size = 0, None
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        count, size = count + 1, frame.shape[:2]
    capture.release()
    return count, size


def test_grid_mpeg1_becomes_h264_with_every_frame(grid_dir, tmp_path):
    source = grid_dir / "mpg" / "bbal6n.mpg"
    if not source.is_file():
        pytest.skip(f"no original MPEG-1 clip at {source}")
    assert video_codec(source) == "mpeg1video" and not is_browser_playable(source)

    playable = browser_playable(source)
    assert playable[4:8] == b"ftyp", "an MP4 container"
    (tmp_path / "out.mp4").write_bytes(playable)
    assert video_codec(tmp_path / "out.mp4") == "h264"
    num_frames, size = decoded_frames(playable, tmp_path)
    assert 74 <= num_frames <= 76 and size == (288, 360)


def test_h264_mp4_passes_through_unchanged(grid_dir):
    source = grid_dir / "s1" / "bbal6n.mp4"
    if video_codec(source) != "h264":
        pytest.skip(f"{source} is not H.264")
    assert browser_playable(source) == source.read_bytes()


def test_synthetic_mpeg4_clip_is_reencoded(synthetic_clip, tmp_path):
    source = synthetic_clip(num_frames=30, size=(120, 161))  # odd width: yuv420p needs even sides
    assert video_codec(source) == "mpeg4"
    playable = browser_playable_bytes(source.read_bytes(), "my clip.MP4")
    (tmp_path / "out.mp4").write_bytes(playable)
    assert video_codec(tmp_path / "out.mp4") == "h264"
    num_frames, size = decoded_frames(playable, tmp_path)
    assert num_frames == 30 and size == (120, 160)


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "empty.mp4", "empty"),
        (b"this is not a video", "notes.mp4", "could not be converted"),
        (b"\x00\x00\x00\x18ftypmp42", "notes.avi", "could not be converted"),
        (b"a video?", "notes.txt", "not accepted"),
    ],
)
def test_unusable_files_raise_one_clip_error(data, filename, message):
    with pytest.raises(ClipError, match=message):
        browser_playable_bytes(data, filename)


def test_missing_file_is_a_clip_error(tmp_path):
    with pytest.raises(ClipError, match="There is no file at"):
        browser_playable(tmp_path / "nothing.mp4")
