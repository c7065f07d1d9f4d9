"""Issue 45's corpus of files a user might give, built here: each bad one is refused with one true sentence that
says what to do, on the command line and on the app's upload path alike; each good one is read at its true length.

The table is the scorecard: a row's expectation is what a user should get. The files are small (the 210 MB one is a
sparse file; the minute-long one is 96×72); those made of a face use frames of GRID speaker 1 (``bbie8n``), scaled,
padded or rotated.
"""

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from lipnet_core.cli import main
from lipnet_core.errors import ClipError, FaceNotFoundError, LipNetError
from lipnet_core.face_detection import SeveralFacesError
from lipnet_core.uploads import MAX_UPLOAD_MEGABYTES
from lipnet_core.video import MAX_SECONDS, MIN_SECONDS, ffmpeg_executable, read_clip

FACE_CLIP = "bbie8n"  # GRID speaker 1: 75 frames, 288×360, 25 fps
GRID_MOUTH = (150.0, 213.0)  # (x, y) centre of the fixed GRID crop, rows 190:236 and cols 80:220
MOUTH_TOLERANCE = 12.0  # pixels, between the found crop's centre and where the mouth was put
UNICODE_NAME = "my clip – Zoë ça.mp4"


@dataclass(frozen=True)
class Sources:
    """What the corpus is built with: the shared clip writer and moving pattern, and the GRID data directory."""

    write_clip: Callable
    moving_pattern: Callable
    grid_dir: Path | None = None

    @property
    def face_clip(self) -> Path:
        return self.grid_dir / "s1" / f"{FACE_CLIP}.mp4"

    def face_frames(self, num_frames: int = 50) -> np.ndarray:
        """(num_frames, 288, 360, 3) uint8 BGR: the start of GRID speaker 1 saying a sentence."""
        return read_clip(self.face_clip).frames[:num_frames]


def ffmpeg(*arguments) -> None:
    subprocess.run([ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y", *map(str, arguments)],
                   check=True, timeout=120)


H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


def text_named_mp4(path, sources):
    path.write_text("this is not a video\n" * 50)


def truncated_mpeg1(path, sources):
    path.write_bytes((sources.grid_dir / "mpg" / "bbal6n.mpg").read_bytes()[: 16 * 1024])


def audio_only(path, sources):
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac", path)


def sparse_210_megabytes(path, sources):
    with open(path, "wb") as file:
        file.truncate(210 * 2**20)  # no block is written: the size check must refuse it before reading


def noise(height, width):
    def build(path, sources):
        sources.write_clip(path, np.random.default_rng(0).integers(0, 256, (50, height, width, 3), dtype=np.uint8))

    return build


def plain_grey(path, sources):
    sources.write_clip(path, np.full((50, 288, 360, 3), 128, np.uint8))


def pattern(num_frames, height=288, width=360):
    def build(path, sources):
        sources.write_clip(path, sources.moving_pattern(num_frames, height, width))

    return build


def two_faces(path, sources):
    frames = sources.face_frames()
    sources.write_clip(path, np.concatenate([frames, frames], axis=2))  # 288 × 720: the speaker twice, side by side


def face_in_a_corner(path, sources):
    """The speaker shrunk to a third (120 × 96) in the top-left corner of a grey 288 × 360 frame."""
    frames = np.full((50, 288, 360, 3), 128, np.uint8)
    frames[:, :96, :120] = [cv2.resize(frame, (120, 96), interpolation=cv2.INTER_AREA)
                            for frame in sources.face_frames()]
    sources.write_clip(path, frames)


def four_k(path, sources):
    """1.2 s at 3840 × 2160: the frame scaled 7.5 times (2700 × 2160), centred with black bars."""
    ffmpeg("-i", sources.face_clip, "-t", "1.2", "-vf", "scale=2700:2160,pad=3840:2160:570:0", "-an", *H264, path)


def phone_portrait(path, sources):
    """2 s shown at 720 × 1280 (the frame doubled, 352 px from the top), stored as a phone does: landscape pixels and
    a display-rotation tag."""
    stored = path.with_name("stored_landscape.mp4")
    ffmpeg("-i", sources.face_clip, "-t", "2", "-vf", "scale=720:576,pad=720:1280:0:352,transpose=cclock", "-an",
           *H264, stored)
    ffmpeg("-display_rotation", "-90", "-i", stored, "-c", "copy", path)


def sixty_fps(path, sources):
    ffmpeg("-i", sources.face_clip, "-vf", "fps=60", "-an", *H264, path)


def unicode_name(path, sources):
    shutil.copyfile(sources.face_clip, path)


@dataclass(frozen=True)
class Case:
    """One file of the corpus and what a user should get.

    refused: the error class and a regular expression the one sentence must match; None for a file to read.
    frames: a read clip's length at 25 fps (its duration × 25); size: its frames' (height, width) as read (a side
    over 640 px is shrunk to 640, see ``read_clip``); crop and mouth: the crop method and the (x, y) centre of the
    mouth in those frames' pixels.
    """

    name: str
    build: Callable | None
    refused: tuple[type, str] | None = None
    frames: int | None = None
    size: tuple[int, int] | None = None
    crop: str | None = None
    mouth: tuple[float, float] | None = None
    grid: bool = False  # built from GRID clips
    upload: bool = True  # also an upload (a missing path is not)
    not_yet: str = ""  # why the product does not do this yet (the row is an expected failure)


RANGE = rf"clips of {MIN_SECONDS:g} to {MAX_SECONDS:g} s are accepted"
CORPUS = [
    Case("empty.mp4", lambda path, sources: path.write_bytes(b""),
         refused=(ClipError, r"^The file is empty \(0 bytes\); choose a video file\.$")),
    Case("notes.mp4", text_named_mp4, refused=(ClipError, r"^This file is not a video OpenCV can decode")),
    Case("truncated.mpg", truncated_mpeg1, grid=True,
         refused=(ClipError, r"^The file is damaged or cut off: only 3 frames \(0\.12 s\) could be decoded before the "
                             r"video breaks; upload the whole file\.$")),
    Case("one_frame.mp4", pattern(1),
         refused=(ClipError, rf"^The clip is 0\.04 s long \(1 frame\), shorter than 1 s; film a whole sentence "
                             rf"\({RANGE}\)\.$")),
    Case("fifth_of_a_second.mp4", pattern(5),
         refused=(ClipError, rf"^The clip is 0\.2 s long \(5 frames\), shorter than 1 s; .*\({RANGE}\)\.$")),
    Case("one_minute.mp4", pattern(1500, 72, 96),
         refused=(ClipError, rf"^The clip is 60 s long, longer than 12 s; trim it to one sentence \({RANGE}\)\.$")),
    Case("noise_360x288.mp4", noise(288, 360), refused=(FaceNotFoundError, r"^No face was found in the clip; film")),
    Case("noise_640x480.mp4", noise(480, 640), refused=(FaceNotFoundError, r"^No face was found in the clip; film")),
    Case("two_faces.mp4", two_faces, grid=True,
         refused=(SeveralFacesError, r"^Several faces were found in the clip; upload a clip with a single speaker\.$")),
    Case("audio_only.mp4", audio_only,
         refused=(ClipError, r"^This file has sound but no video track; upload a video of the speaker's face\.$")),
    Case("huge.mp4", sparse_210_megabytes,
         refused=(ClipError, rf"^The file is 210 MB; files up to {MAX_UPLOAD_MEGABYTES} MB are accepted, so trim")),
    Case("missing.mp4", None, upload=False,
         refused=(ClipError, r"^There is no file at \S+missing\.mp4; check the path\.$")),
    Case("4k.mp4", four_k, grid=True, frames=30, size=(360, 640), crop="detected",
         mouth=((570 + 7.5 * GRID_MOUTH[0]) / 6, 7.5 * GRID_MOUTH[1] / 6)),  # scaled 7.5, moved 570 px, read at 1/6
    Case("portrait.mp4", phone_portrait, grid=True, frames=50, size=(640, 360), crop="detected",
         mouth=(2 * GRID_MOUTH[0] / 2, (352 + 2 * GRID_MOUTH[1]) / 2)),  # doubled, 352 px down, read at half size
    Case("sixty_fps.mp4", sixty_fps, grid=True, frames=75, size=(288, 360), crop="grid", mouth=GRID_MOUTH),
    Case(UNICODE_NAME, unicode_name, grid=True, frames=75, size=(288, 360), crop="grid", mouth=GRID_MOUTH),
    # Beyond the sixteen: what the issue saw read with the fixed GRID crop.
    Case("grey_360x288.mp4", plain_grey, refused=(FaceNotFoundError, r"^No face was found in the clip; film")),
    Case("face_in_a_corner.mp4", face_in_a_corner, grid=True,
         refused=(FaceNotFoundError, r"^The face is too small in the picture .* film closer")),
]


def corpus_params(cases=CORPUS):
    params = []
    for case in cases:
        marks = [pytest.mark.grid_data] if case.grid else []
        if case.not_yet:
            marks.append(pytest.mark.xfail(reason=case.not_yet, strict=True))
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, request, clip_writer, pattern_frames):
    """``corpus(case)`` → the case's file, built on first use (a missing file's path for the missing case)."""
    directory = tmp_path_factory.mktemp("corpus")
    built = {}

    def path_of(case: Case) -> Path:
        if case.name not in built:
            sources = Sources(clip_writer, pattern_frames, request.getfixturevalue("grid_dir") if case.grid else None)
            path = directory / case.name
            if case.build is not None:
                case.build(path, sources)
            built[case.name] = path
        return built[case.name]

    return path_of


def check_mouth(box: dict, case: Case) -> None:
    centre = ((box["left"] + box["right"]) / 2, (box["top"] + box["bottom"]) / 2)
    assert np.hypot(centre[0] - case.mouth[0], centre[1] - case.mouth[1]) <= MOUTH_TOLERANCE, (centre, case.mouth)


def check_sentence(message: str, case: Case) -> None:
    """One sentence, the expected one: a single line that ends with a full stop and matches the row."""
    assert "\n" not in message and message.endswith("."), message
    assert re.search(case.refused[1], message), message


@pytest.mark.slow
@pytest.mark.parametrize("case", corpus_params())
def test_the_command_line_refuses_with_one_line_or_reads(case, corpus, random_weights, capsys):
    exit_code = main(["predict", str(corpus(case)), "--weights", str(random_weights), "--json"])
    captured = capsys.readouterr()
    if case.refused:
        assert (exit_code, captured.out) == (2, ""), captured
        lines = captured.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
        check_sentence(lines[0].removeprefix("error: "), case)
    else:
        assert exit_code == 0 and captured.err == "", captured.err
        reading = json.loads(captured.out)
        assert isinstance(reading["text"], str) and reading["frames"] == case.frames
        assert reading["crop"] == case.crop
        check_mouth(reading["box"], case)


@pytest.mark.slow
@pytest.mark.parametrize("case", corpus_params([case for case in CORPUS if case.upload]))
def test_the_upload_path_refuses_with_the_same_sentence_or_shows_the_clip(case, corpus, reader):
    from lipnet_core.demo.views import view_upload

    path = corpus(case)
    # The sparse file stays sparse on disk; its bytes in memory are pages the system gives zeroed on demand.
    data = bytes(path.stat().st_size) if case.name == "huge.mp4" else path.read_bytes()
    if case.refused:
        error_class, _ = case.refused
        with pytest.raises(LipNetError) as raised:
            view_upload(reader, data, case.name)
        assert isinstance(raised.value, error_class), repr(raised.value)
        check_sentence(str(raised.value), case)
    else:
        view = view_upload(reader, data, case.name)
        assert view.reading.num_frames == case.frames and view.reading.crop == case.crop
        assert view.reading.frame_size == case.size
        assert view.reading.class_probabilities.shape == (case.frames, 41)
        check_mouth(view.reading.box.as_dict(), case)
        assert view.video[4:8] == b"ftyp", "an MP4 the browser can play"


CASES = {case.name: case for case in CORPUS}


@pytest.mark.slow
def test_a_real_process_prints_one_line_for_a_file_without_video(corpus, random_weights, repo_root):
    case = CASES["audio_only.mp4"]
    completed = subprocess.run(
        [sys.executable, "-m", "lipnet_core", "predict", str(corpus(case)), "--weights", str(random_weights), "--json"],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 2 and completed.stdout == "", completed
    assert completed.stderr.splitlines() == [
        "error: This file has sound but no video track; upload a video of the speaker's face."
    ]


@pytest.mark.slow
def test_a_real_process_reads_a_file_named_with_spaces_and_accents(corpus, random_weights, repo_root, grid_dir):
    path = corpus(CASES[UNICODE_NAME])
    completed = subprocess.run(
        [sys.executable, "-m", "lipnet_core", "predict", str(path), "--weights", str(random_weights), "--json"],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["frames"] == 75


def test_the_readme_states_the_limits_the_code_enforces(repo_root):
    readme = (repo_root / "README.md").read_text()
    assert f"{MAX_UPLOAD_MEGABYTES} MB" in readme
    assert f"{MIN_SECONDS:g} to {MAX_SECONDS:g} s" in readme
