import cv2
import numpy as np
import pytest

from lipnet_core.crop_box import GRID_BOX, CropBox
from lipnet_core.errors import ClipError
from lipnet_core.mouth_crop import crop_mouth
from lipnet_core.normalise import normalise_clip
from lipnet_core.preprocessing import choose_mode, locate_mouth, mouth_frames_of, prepare_clip
from lipnet_core.video import read_clip


def reference_grid_crop(frames_bgr):
    """The reference notebooks' slicing, on correctly ordered grayscale frames."""
    return np.stack([cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[190:236, 80:220] for frame in frames_bgr])


def test_grid_crop_is_exactly_the_reference_slicing(grid_dir):
    for path in [grid_dir / "s1" / "bbaf2n.mp4", grid_dir / "mpg" / "bbal6n.mpg"]:
        clip = read_clip(path)
        location, mouth_frames = mouth_frames_of(clip, "auto")
        assert location.mode == "grid" and location.box == GRID_BOX
        assert mouth_frames.shape == (75, 46, 140) and mouth_frames.dtype == np.uint8
        np.testing.assert_array_equal(mouth_frames, reference_grid_crop(clip.frames))


def test_normalised_input_shape_dtype_and_statistics(grid_dir):
    prepared = prepare_clip(grid_dir / "s1" / "bbaf2n.mp4")
    model_input = prepared.model_input
    assert model_input.shape == (75, 46, 140, 1) and model_input.dtype == np.float32
    assert abs(float(model_input.mean())) < 1e-4 and float(model_input.std()) == pytest.approx(1.0, abs=1e-4)
    values = prepared.mouth_frames.astype(np.float64)
    expected = (values - values.mean()) / values.std()
    np.testing.assert_allclose(model_input[..., 0], expected, atol=1e-5)


def test_74_frame_clip_keeps_its_length(grid_dir):
    assert prepare_clip(grid_dir / "s1" / "lrae3s.mp4").model_input.shape == (74, 46, 140, 1)


def test_constant_clip_normalises_to_zeros():
    normalised = normalise_clip(np.full((30, 46, 140), 7, np.uint8))
    assert normalised.shape == (30, 46, 140, 1) and not normalised.any()


def test_auto_mode_choice():
    assert choose_mode((288, 360)) == "grid"
    assert choose_mode((480, 640)) == "detected"
    assert choose_mode((480, 640), "grid") == "grid"
    with pytest.raises(ClipError, match="Unknown crop mode"):
        choose_mode((288, 360), "mouth")


def test_grid_crop_refuses_frames_that_are_too_small():
    with pytest.raises(ClipError, match="detected crop"):
        locate_mouth(np.zeros((3, 100, 100, 3), np.uint8), "grid")


def test_crop_of_a_larger_box_is_resized_and_padded_at_the_border():
    frames = np.tile(np.arange(200, dtype=np.uint8)[None, None, :], (4, 100, 1))  # T x H x W, a horizontal ramp
    resized = crop_mouth(frames, CropBox(top=10, left=20, bottom=102, right=300))  # 92 x 280, past both borders
    assert resized.shape == (4, 46, 140) and resized.dtype == np.uint8
    assert resized[0, 0, 0] < resized[0, 0, 60] and resized[0, 0, -1] == 199  # edge replication beyond col 199
