import cv2
import numpy as np
import pytest

from lipnet_core.errors import ClipError
from lipnet_core.video import read_clip, resample_indices, to_grayscale


def test_grayscale_uses_bgr_channel_order():
    blue = np.zeros((1, 2, 2, 3), np.uint8)
    blue[..., 0] = 255  # OpenCV frames are BGR: channel 0 is blue
    red = blue[..., ::-1].copy()
    assert to_grayscale(blue)[0, 0, 0] == 29  # 0.114 × 255
    assert to_grayscale(red)[0, 0, 0] == 76  # 0.299 × 255


def test_grayscale_of_a_stack_equals_per_frame_conversion(pattern_frames):
    frames = pattern_frames(5, 32, 48)
    expected = np.stack([cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) for frame in frames])
    np.testing.assert_array_equal(to_grayscale(frames), expected)


def test_resample_indices():
    assert resample_indices(75, 25.0).tolist() == list(range(75))
    fifty = resample_indices(150, 50.0)
    assert len(fifty) == 75 and fifty[:3].tolist() == [1, 3, 5]
    thirty = resample_indices(90, 30.0)
    assert len(thirty) == 75 and thirty.max() <= 89 and np.all(np.diff(thirty) >= 1)
    assert len(resample_indices(45, 15.0)) == 75


@pytest.mark.parametrize(
    "num_frames, fps, size, expected_frames",
    [(75, 25.0, (288, 360), 75), (90, 30.0, (288, 360), 75), (40, 25.0, (240, 320), 40), (100, 50.0, (288, 360), 50)],
)
def test_read_resamples_to_25_fps_and_keeps_true_length(synthetic_clip, num_frames, fps, size, expected_frames):
    clip = read_clip(synthetic_clip(num_frames=num_frames, fps=fps, size=size))
    assert clip.frames.dtype == np.uint8 and clip.frames.shape == (expected_frames, *size, 3)
    assert clip.source_fps == pytest.approx(fps, rel=0.01)


def test_large_frames_are_shrunk(synthetic_clip):
    clip = read_clip(synthetic_clip(num_frames=30, size=(720, 1280)))
    assert clip.frame_size == (360, 640) and clip.scale == pytest.approx(0.5)


def test_avi_mov_and_webm_containers(tmp_path, pattern_frames, clip_writer):
    frames = pattern_frames(30, 288, 360)
    for name, fourcc in [("clip.avi", "MJPG"), ("clip.mov", "mp4v"), ("clip.webm", "VP80")]:
        clip = read_clip(clip_writer(tmp_path / name, frames, 25.0, fourcc))
        assert clip.num_frames == 30
        assert np.abs(to_grayscale(clip.frames).astype(int) - to_grayscale(frames)).mean() < 6


def test_bad_inputs_raise_clip_error(tmp_path, synthetic_clip, bad_clip_files):
    with pytest.raises(ClipError, match="empty"):
        read_clip(bad_clip_files["empty"])
    with pytest.raises(ClipError, match="not a video|No video frames"):
        read_clip(bad_clip_files["text"])
    with pytest.raises(ClipError):
        read_clip(bad_clip_files["truncated"])
    with pytest.raises(ClipError, match="No clip"):
        read_clip(tmp_path / "missing.mp4")
    with pytest.raises(ClipError, match="at least 25"):
        read_clip(synthetic_clip(num_frames=10))
    with pytest.raises(ClipError, match="longer than 2 s"):
        read_clip(synthetic_clip(num_frames=75), max_seconds=2)
    with pytest.raises(ClipError, match="MB"):
        read_clip(synthetic_clip(num_frames=30), max_bytes=100)


def test_original_mpeg1_grid_clip(grid_dir):
    clip = read_clip(grid_dir / "mpg" / "bbal6n.mpg")
    assert clip.frames.shape == (75, 288, 360, 3)
    assert read_clip(grid_dir / "mpg" / "lrae3s.mpg").num_frames == 74
