"""Detected mouth crop: box geometry and speaker choice on hand-made keypoints, then MTCNN on real GRID clips."""

import cv2
import numpy as np
import pytest

from lipnet_core.crop_box import GRID_BOX
from lipnet_core.errors import FaceNotFoundError
from lipnet_core.face_detection import (
    BOX_CENTRE_DX,
    BOX_CENTRE_DY,
    BOX_WIDTH_PER_MOUTH_WIDTH,
    SeveralFacesError,
    detect_mouth_box,
    mouth_box_from_corners,
    pick_speaker,
    sample_indices,
)
from lipnet_core.preprocessing import locate_mouth, prepare_clip
from lipnet_core.video import read_clip

# The constants were fitted on sorted(s1/*.mp4)[0::20]; these nine clips are sorted(...)[10::100], none of them.
CHECK_CLIP_STEP, CHECK_CLIP_START = 100, 10
# 480×640 frame made from a 288×360 GRID frame: scaled by 1.5, then padded top/bottom and left/right.
UPSCALE, PAD_ROWS, PAD_COLS = 1.5, 24, 50


def edges(box) -> np.ndarray:
    return np.array([box.top, box.left, box.bottom, box.right], dtype=np.float64)


def mouth_at(centre_x, centre_y, width, angle_degrees=0.0):
    """Corners (1, 2) left and right of a mouth centred at (centre_x, centre_y)."""
    half = np.array([np.cos(np.radians(angle_degrees)), np.sin(np.radians(angle_degrees))]) * width / 2
    centre = np.array([centre_x, centre_y])
    return (centre - half)[np.newaxis], (centre + half)[np.newaxis]


def face_row(x1, y1, x2, y2, confidence=0.99):
    """One MTCNN numpy row (image index, box, confidence, keypoint xs, keypoint ys) with the mouth at the box's base."""
    width, height = x2 - x1, y2 - y1
    xs = [x1 + 0.3 * width, x1 + 0.7 * width, x1 + 0.5 * width, x1 + 0.35 * width, x1 + 0.65 * width]
    ys = [y1 + 0.4 * height, y1 + 0.4 * height, y1 + 0.6 * height, y1 + 0.8 * height, y1 + 0.8 * height]
    return np.array([0, x1, y1, x2, y2, confidence, *xs, *ys], dtype=np.float64)


def test_calibration_mouth_gives_the_grid_box():
    mouth_width = 140 / BOX_WIDTH_PER_MOUTH_WIDTH
    left, right = mouth_at(150 - BOX_CENTRE_DX * mouth_width, 213 - BOX_CENTRE_DY * mouth_width, mouth_width)
    assert mouth_box_from_corners(left, right) == GRID_BOX


def test_box_follows_mouth_position_scale_and_tilt():
    box = mouth_box_from_corners(*mouth_at(300.0, 200.0, 40.0))
    assert box.width == round(BOX_WIDTH_PER_MOUTH_WIDTH * 40)
    assert abs(box.height - box.width * 46 / 140) <= 0.5
    assert abs((box.left + box.right) / 2 - (300 + BOX_CENTRE_DX * 40)) <= 1
    assert abs((box.top + box.bottom) / 2 - (200 + BOX_CENTRE_DY * 40)) <= 1
    moved = mouth_box_from_corners(*mouth_at(340.0, 170.0, 40.0))
    np.testing.assert_array_equal(edges(moved) - edges(box), [-30, 40, -30, 40])
    assert mouth_box_from_corners(*mouth_at(300.0, 200.0, 40.0, angle_degrees=25)) == box
    doubled = mouth_box_from_corners(*mouth_at(300.0, 200.0, 80.0))
    assert abs(doubled.width - 2 * box.width) <= 1 and abs(doubled.height - 2 * box.height) <= 1


def test_box_is_the_median_over_frames_and_ignores_one_outlier():
    steady_left, steady_right = mouth_at(150.0, 210.0, 40.0)
    outlier_left, outlier_right = mouth_at(20.0, 30.0, 90.0)
    left = np.vstack([steady_left] * 4 + [outlier_left])
    right = np.vstack([steady_right] * 4 + [outlier_right])
    assert mouth_box_from_corners(left, right) == mouth_box_from_corners(steady_left, steady_right)


def test_degenerate_mouth_raises():
    with pytest.raises(FaceNotFoundError):
        mouth_box_from_corners(*mouth_at(150.0, 210.0, 0.0))


def test_a_face_too_small_to_read_is_refused_saying_so():
    with pytest.raises(FaceNotFoundError, match="too small.*12 px wide.*film closer"):
        mouth_box_from_corners(*mouth_at(150.0, 210.0, 12.0))
    assert mouth_box_from_corners(*mouth_at(150.0, 210.0, 20.0)).width == round(BOX_WIDTH_PER_MOUTH_WIDTH * 20)


def test_sample_indices_spread_over_the_clip():
    indices = sample_indices(75)
    assert len(indices) == 10 and indices[0] == 0 and indices[-1] == 74
    np.testing.assert_array_equal(sample_indices(4), [0, 1, 2, 3])


def test_pick_speaker_takes_the_widest_confident_face():
    big, small = face_row(100, 50, 200, 180), face_row(300, 60, 340, 110)
    frames = [np.stack([small, big]), np.stack([big]), np.stack([face_row(0, 0, 400, 400, confidence=0.5), big])]
    chosen = pick_speaker(frames)
    assert len(chosen) == 3
    for row in chosen:
        np.testing.assert_array_equal(row, big)


def test_pick_speaker_raises_without_a_confident_face():
    with pytest.raises(FaceNotFoundError, match="No face was found"):
        pick_speaker([np.empty((0, 16)), np.stack([face_row(10, 10, 90, 110, confidence=0.8)])])


def test_pick_speaker_raises_when_two_similar_faces_share_most_frames():
    pair = np.stack([face_row(20, 50, 120, 170), face_row(200, 50, 290, 160)])
    alone = np.stack([face_row(20, 50, 120, 170)])
    with pytest.raises(SeveralFacesError, match="single speaker"):
        pick_speaker([pair, pair, alone])
    assert len(pick_speaker([pair, alone, alone])) == 3  # one crowded frame out of three: keep the widest face


@pytest.fixture(scope="module")
def check_clips(grid_dir):
    """{path: detected box} for nine GRID s1 clips outside the calibration set."""
    paths = sorted((grid_dir / "s1").glob("*.mp4"))[CHECK_CLIP_START::CHECK_CLIP_STEP]
    return {path: detect_mouth_box(read_clip(path).frames) for path in paths}


def test_detected_box_matches_the_grid_crop_on_average(check_clips):
    # Measured on these nine clips: mean |offset| 5.5 px, worst 24 px, signed mean per edge at most 2.9 px. The worst
    # offsets are the speaker's: GRID s1's mouth moves ~30 px across clips while the fixed crop stays put.
    offsets = np.stack([edges(box) - edges(GRID_BOX) for box in check_clips.values()])  # clips x 4 edges
    assert len(offsets) == 9
    assert np.abs(offsets).mean() <= 7
    assert np.abs(offsets).max() <= 28
    assert np.all(np.abs(offsets.mean(axis=0)) <= 4)


def test_auto_on_a_480x640_clip_detects_and_maps_back(check_clips):
    path, original_box = next(iter(check_clips.items()))
    frames = read_clip(path).frames  # 75 x 288 x 360 x 3
    scaled = [cv2.resize(frame, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_LINEAR) for frame in frames]
    padded = np.stack(
        [cv2.copyMakeBorder(frame, PAD_ROWS, PAD_ROWS, PAD_COLS, PAD_COLS, cv2.BORDER_CONSTANT) for frame in scaled]
    )
    assert padded.shape == (75, 480, 640, 3)
    location = locate_mouth(padded, "auto")
    assert location.mode == "detected"
    mapped_back = (edges(location.box) - [PAD_ROWS, PAD_COLS, PAD_ROWS, PAD_COLS]) / UPSCALE
    assert np.abs(mapped_back - edges(original_box)).max() <= 4  # measured 2.3 px (left edge)


def test_two_speakers_side_by_side_raise(check_clips):
    frames = read_clip(next(iter(check_clips))).frames
    with pytest.raises(SeveralFacesError):
        detect_mouth_box(np.concatenate([frames, frames[:, :, ::-1]], axis=2))  # 75 x 288 x 720 x 3


def test_prepare_clip_with_detected_crop(check_clips):
    path, box = next(iter(check_clips.items()))
    prepared = prepare_clip(path, crop="detected")
    assert prepared.location.mode == "detected" and prepared.location.box == box
    assert prepared.mouth_frames.shape == (75, 46, 140) and prepared.mouth_frames.dtype == np.uint8
    assert prepared.model_input.shape == (75, 46, 140, 1) and prepared.model_input.dtype == np.float32


def test_clip_without_a_face_raises(synthetic_clip):
    with pytest.raises(FaceNotFoundError, match="No face was found"):
        prepare_clip(synthetic_clip(), crop="detected")
