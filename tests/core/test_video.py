import subprocess

import cv2
import numpy as np
import pytest

from lipnet_core.errors import ClipError
from lipnet_core.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_MEGABYTES
from lipnet_core.video import ffmpeg_executable, read_clip, resample_indices, to_grayscale


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


def even_times(num_frames: int, fps: float) -> tuple[np.ndarray, float]:
    """The timestamps of a constant-rate clip, and how long each frame lasts."""
    return np.arange(num_frames) / fps, 1.0 / fps


def test_resample_indices():
    assert resample_indices(*even_times(75, 25.0)).tolist() == list(range(75))
    fifty = resample_indices(*even_times(150, 50.0))
    assert len(fifty) == 75 and fifty[:3].tolist() == [1, 3, 5]
    thirty = resample_indices(*even_times(90, 30.0))
    assert len(thirty) == 75 and thirty.max() <= 89 and np.all(np.diff(thirty) >= 1)
    fifteen = resample_indices(*even_times(45, 15.0))
    assert len(fifteen) == 75 and set(fifteen.tolist()) == set(range(45))  # every frame, some shown twice


def test_resample_indices_follow_the_timestamps_of_a_variable_rate_clip():
    """Four frames in the first 0.1 s, then one a second (the last shown for 0.9 s): 3 s, 75 frames at 25 fps, in
    which each slow frame fills the second it is shown and the quick ones are mostly dropped."""
    times = np.array([0.0, 0.025, 0.05, 0.075, 1.1, 2.1])
    indices = resample_indices(times, frame_seconds=0.9)
    assert len(indices) == 75 and indices[:4].tolist() == [0, 2, 3, 3]
    assert np.bincount(indices).tolist() == [1, 0, 1, 25, 25, 23]


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
    with pytest.raises(ClipError, match="not a video"):
        read_clip(bad_clip_files["text"])
    with pytest.raises(ClipError, match="incomplete: its index"):
        read_clip(bad_clip_files["truncated"])  # OpenCV's MP4 writer puts the index at the end: a third has none
    with pytest.raises(ClipError, match="There is no file at"):
        read_clip(tmp_path / "missing.mp4")
    with pytest.raises(ClipError, match=r"^The clip is 0\.4 s long \(10 frames\), shorter than 1 s; .* 1 to 12 s"):
        read_clip(synthetic_clip(num_frames=10))
    with pytest.raises(ClipError, match=r"^The clip is 3 s long, longer than 2 s; trim it"):
        read_clip(synthetic_clip(num_frames=75), max_seconds=2)
    with pytest.raises(ClipError, match=r"The file is 0\.\d MB; files up to 0 MB"):
        read_clip(synthetic_clip(num_frames=30), max_bytes=100)


def test_the_upload_limit_and_the_length_range_are_one_for_the_app_and_the_command_line(tmp_path, synthetic_clip):
    """read_clip (the command line) refuses at the app's upload limit, and both lengths are stated in seconds."""
    just_over = tmp_path / "just_over.mp4"
    with open(just_over, "wb") as file:
        file.truncate(MAX_UPLOAD_BYTES + 1)  # sparse: refused on its size before any byte is read
    with pytest.raises(ClipError, match=f"files up to {MAX_UPLOAD_MEGABYTES} MB are accepted"):
        read_clip(just_over)
    assert MAX_UPLOAD_BYTES == MAX_UPLOAD_MEGABYTES * 2**20
    assert read_clip(synthetic_clip(num_frames=25, size=(48, 64))).num_frames == 25  # exactly MIN_SECONDS
    assert read_clip(synthetic_clip(num_frames=300, size=(48, 64))).num_frames == 300  # exactly MAX_SECONDS
    with pytest.raises(ClipError, match=r"0\.96 s long \(24 frames\)"):
        read_clip(synthetic_clip(num_frames=24, size=(48, 64)))
    with pytest.raises(ClipError, match=r"12\.08 s long, longer than 12 s"):
        read_clip(synthetic_clip(num_frames=302, size=(48, 64)))


def test_a_variable_frame_rate_clip_is_resampled_by_its_timestamps(tmp_path):
    """30 frames at 60 fps (0.5 s), then 25 frames at 10 fps (2.5 s), as a phone's H.264 MP4 with those timestamps:
    3 s, so 75 frames at 25 fps, each showing the frame that was on screen then (frame i is painted grey 20 + 4i)."""
    grey_levels = np.arange(55) * 4 + 20
    frames = np.repeat(grey_levels.astype(np.uint8), 48 * 64).reshape(55, 48, 64)
    path = tmp_path / "variable_rate.mp4"
    subprocess.run([
        ffmpeg_executable(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gray", "-s", "64x48", "-r", "25",
        "-i", "-", "-vf", "settb=1/600,setpts='if(lt(N,30),N/60,0.5+(N-30)/10)/TB'", "-fps_mode", "vfr",
        "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", str(path),
    ], input=frames.tobytes(), check=True, timeout=60)  # fmt: skip
    true_times = np.where(np.arange(55) < 30, np.arange(55) / 60, 0.5 + (np.arange(55) - 30) / 10)

    clip = read_clip(path)
    shown = np.round((clip.frames[..., 0].mean(axis=(1, 2)) - 20) / 4).astype(int)
    assert clip.num_frames == 75
    for index, instant in enumerate(np.arange(75) / 25):
        on_screen = np.searchsorted(true_times, instant - 0.005, side="right") - 1
        rounded_up = np.searchsorted(true_times, instant + 0.02 + 0.005, side="right") - 1
        assert on_screen <= shown[index] <= rounded_up, (index, shown[index])
    assert shown[24] == 34  # at 0.96 s, the fifth frame of the 10 fps part (resampled by the average rate: frame 17)


def test_original_mpeg1_grid_clip(grid_dir):
    clip = read_clip(grid_dir / "mpg" / "bbal6n.mpg")
    assert clip.frames.shape == (75, 288, 360, 3)
    assert read_clip(grid_dir / "mpg" / "lrae3s.mpg").num_frames == 74
