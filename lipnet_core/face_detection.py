"""Frames → mouth box for clips that are not GRID-framed: MTCNN finds the mouth corners, the box copies the GRID crop.

The box is placed relative to the mouth exactly as GRID's fixed crop (rows 190:236, cols 80:220 of a 288×360 frame)
sits relative to the GRID speakers' mouths: its width is ``BOX_WIDTH_PER_MOUTH_WIDTH`` mouth widths, its height keeps
the 46:140 aspect, and its centre is the mouth-corner midpoint moved by (``BOX_CENTRE_DX``, ``BOX_CENTRE_DY``) mouth
widths. One box serves the whole clip (the network expects a steady window): the detector runs on
``SAMPLED_FRAMES`` evenly spaced frames and the median mouth is used.

Check against the fixed crop on 45 GRID s1 clips not used for the fit (every 20th clip from the 11th, 10 frames
each), in pixels over the box's four edges (top, left, bottom, right): mean absolute offset 5.1, worst 24; mean
signed offset per edge 0.5, 0.8, -0.1, -1.2. Box centre: 7.9 mean, 20.7 worst; box width 129 to 155 (fixed: 140).
The spread is the speaker's, not the detector's: over these 90 clips the mouth centre spans 31 px sideways and
24 px vertically and the mouth width 37 to 46 px (two recording sessions), while the fixed crop stays put. The
detected box follows the mouth and matches the fixed crop on average.

Cost on this project's shared 2-core CPU: building the detector ~5.4 s once per process; then 0.3 to 0.4 s per
75-frame 288×360 clip and 1.0 to 1.7 s per 75-frame 480×640 clip (10 frames go through MTCNN).
"""

import functools
import threading

import cv2
import numpy as np

from lipnet_core.crop_box import MOUTH_HEIGHT, MOUTH_WIDTH, CropBox
from lipnet_core.errors import ClipError, FaceNotFoundError

# Fitted 2026-11-21 on 45 GRID s1 clips (every 20th of the 900 sorted names, from the first), 10 evenly spaced
# frames each, from each clip's median mouth: width by least squares on (140 px, mouth width), offsets as the mean
# of (GRID box centre − mouth centre) / mouth width, with the GRID box centre at x 150, y 213.
BOX_WIDTH_PER_MOUTH_WIDTH = 3.47
BOX_CENTRE_DX = -0.209  # the GRID box sits left of the mouth centre...
BOX_CENTRE_DY = 0.099  # ...and a little below it

SAMPLED_FRAMES = 10
MIN_CONFIDENCE = 0.9
MIN_MOUTH_WIDTH = 20  # px: the box is then ~70 px wide, half the network's 140; smaller faces are mostly blur
SIMILAR_FACE_WIDTH_RATIO = 0.7  # a second face at least this wide (relative to the largest) is another speaker

# Columns of MTCNN's numpy output (box_format="xyxy"): image index, x1, y1, x2, y2, confidence, then the x of the
# five keypoints (left eye, right eye, nose, mouth left, mouth right) and their y in the same order.
_X1, _Y1, _X2, _Y2, _CONFIDENCE = 1, 2, 3, 4, 5
_MOUTH_LEFT_X, _MOUTH_RIGHT_X, _MOUTH_LEFT_Y, _MOUTH_RIGHT_Y = 9, 10, 14, 15

NO_FACE_MESSAGE = "No face was found in the clip; film the speaker's face from the front, well lit."
SEVERAL_FACES_MESSAGE = "Several faces were found in the clip; upload a clip with a single speaker."


class SeveralFacesError(FaceNotFoundError):
    """Two faces of similar size share most frames, so the speaker is ambiguous."""


_detector_lock = threading.Lock()


@functools.cache
def _load_detector():
    from mtcnn import MTCNN  # imported here: it loads TensorFlow and the three networks (a few seconds)

    return MTCNN()


def detector():
    """The process-wide MTCNN detector, built on first use."""
    with _detector_lock:
        return _load_detector()


def sample_indices(num_frames: int, num_samples: int = SAMPLED_FRAMES) -> np.ndarray:
    """At most ``num_samples`` evenly spaced frame indices, first and last included."""
    return np.unique(np.linspace(0, num_frames - 1, min(num_frames, num_samples)).round().astype(np.int64))


def mouth_box_from_corners(mouth_left: np.ndarray, mouth_right: np.ndarray) -> CropBox:
    """Mouth corners (N, 2) float (x, y) in frame pixels, one row per frame → one CropBox for the clip.

    The median mouth centre and width over the N frames place a box with the GRID crop's geometry.
    """
    mouth_left = np.asarray(mouth_left, dtype=np.float64).reshape(-1, 2)
    mouth_right = np.asarray(mouth_right, dtype=np.float64).reshape(-1, 2)
    centre_x, centre_y = np.median((mouth_left + mouth_right) / 2.0, axis=0)
    mouth_width = float(np.median(np.linalg.norm(mouth_right - mouth_left, axis=1)))
    if not mouth_width >= 1.0:
        raise FaceNotFoundError("The mouth could not be located in the clip; film the speaker's face from the front.")
    if mouth_width < MIN_MOUTH_WIDTH:
        raise FaceNotFoundError(
            f"The face is too small in the picture (the mouth is {mouth_width:.0f} px wide, at least "
            f"{MIN_MOUTH_WIDTH} px are needed); film closer, so that the face fills more of the frame.")
    box_width = max(1, int(round(BOX_WIDTH_PER_MOUTH_WIDTH * mouth_width)))
    box_height = max(1, int(round(box_width * MOUTH_HEIGHT / MOUTH_WIDTH)))
    left = int(round(centre_x + BOX_CENTRE_DX * mouth_width - box_width / 2.0))
    top = int(round(centre_y + BOX_CENTRE_DY * mouth_width - box_height / 2.0))
    return CropBox(top=top, left=left, bottom=top + box_height, right=left + box_width)


def pick_speaker(faces_per_frame: list[np.ndarray]) -> list[np.ndarray]:
    """Per frame, the widest confident face (a 16-value MTCNN row); frames without one are dropped.

    Raises:
        FaceNotFoundError: no confident face in any frame.
        SeveralFacesError: in most frames with a face, a second face is nearly as wide as the widest.
    """
    speakers, crowded_frames = [], 0
    for faces in faces_per_frame:
        faces = faces[faces[:, _CONFIDENCE] >= MIN_CONFIDENCE]
        if len(faces) == 0:
            continue
        widths = faces[:, _X2] - faces[:, _X1]
        order = np.argsort(widths)[::-1]
        if len(faces) > 1 and widths[order[1]] >= SIMILAR_FACE_WIDTH_RATIO * widths[order[0]]:
            crowded_frames += 1
        speakers.append(faces[order[0]])
    if not speakers:
        raise FaceNotFoundError(NO_FACE_MESSAGE)
    if crowded_frames > len(speakers) / 2:
        raise SeveralFacesError(SEVERAL_FACES_MESSAGE)
    return speakers


def detect_faces(frames_bgr: np.ndarray) -> list[np.ndarray]:
    """(S, H, W, 3) uint8 BGR → per frame, an (n, 16) float array of MTCNN rows (see the column constants)."""
    frames_rgb = [cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2RGB) for frame in frames_bgr]
    rows = np.asarray(detector().detect_faces(frames_rgb, box_format="xyxy", output_type="numpy"), dtype=np.float64)
    rows = rows.reshape(-1, 16)
    return [rows[rows[:, 0] == index] for index in range(len(frames_rgb))]


def detect_mouth_corners(frames_bgr: np.ndarray, num_samples: int = SAMPLED_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """(T, H, W, 3) uint8 BGR → the speaker's mouth corners (N, 2) left and (N, 2) right, N ≤ ``num_samples``."""
    sampled = frames_bgr[sample_indices(len(frames_bgr), num_samples)]
    speakers = np.stack(pick_speaker(detect_faces(sampled)))  # N x 16
    mouth_left = speakers[:, [_MOUTH_LEFT_X, _MOUTH_LEFT_Y]]
    mouth_right = speakers[:, [_MOUTH_RIGHT_X, _MOUTH_RIGHT_Y]]
    return mouth_left, mouth_right


def detect_mouth_box(frames_bgr: np.ndarray) -> CropBox:
    """(T, H, W, 3) uint8 BGR → the clip's mouth box in frame pixels (46:140 aspect, may cross the border).

    Raises:
        FaceNotFoundError: no face in any sampled frame.
        SeveralFacesError: more than one speaker-sized face.
    """
    if frames_bgr.ndim != 4 or frames_bgr.shape[-1] != 3 or len(frames_bgr) == 0:
        raise ClipError(f"Expected colour frames (T, H, W, 3), got shape {frames_bgr.shape}.")
    return mouth_box_from_corners(*detect_mouth_corners(frames_bgr))
