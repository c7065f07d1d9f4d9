"""The training pack as H.264 video, small enough to travel to a GPU machine (whose working tree is capped at 64 MiB).

The mouth crops of every clip are encoded back to back as one grayscale H.264 stream per part (x264, ``-qp 0`` is
lossless; a CRF above 0 trades exactness for size), with an index of clip ids, lengths, sentences and speech spans.
Lossless is the default, so a model trained from the compact pack sees exactly the crops of the ``.npz``;
docs/training.md gives the sizes. :func:`compare_packs` reports the difference in model input.
"""

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np

from lipnet_core.crop_box import MOUTH_HEIGHT, MOUTH_WIDTH
from lipnet_core.errors import LipNetError
from lipnet_core.normalise import normalise_clip
from lipnet_core.video import ffmpeg_executable
from lipnet_training.pack import PackedClip

INDEX_NAME = "index.json"


def _encode(frames: np.ndarray, path: Path, crf: int) -> None:

    quality = ["-qp", "0"] if crf == 0 else ["-crf", str(crf)]
    command = [
        ffmpeg_executable(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{MOUTH_WIDTH}x{MOUTH_HEIGHT}", "-r", "25", "-i", "-",
        "-c:v", "libx264", "-preset", "slow", *quality, "-pix_fmt", "gray", str(path),
    ]  # fmt: skip
    completed = subprocess.run(command, input=np.ascontiguousarray(frames).tobytes(), capture_output=True)
    if completed.returncode:
        raise LipNetError(f"ffmpeg could not encode {path}: {completed.stderr.decode(errors='replace')[-300:]}")


def _decode(path: Path) -> np.ndarray:
    """Decode with OpenCV (present on the GPU machines, unlike imageio-ffmpeg); grey comes back as equal B, G, R."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame[:, :, 0] if frame.ndim == 3 else frame)
    finally:
        capture.release()
    if not frames:
        raise LipNetError(f"{path} holds no frames; rebuild the pack with 'python -m lipnet_training pack'.")
    return np.stack(frames)  # T x 46 x 140, uint8


def write_compact_pack(pack: dict[str, PackedClip], directory, crf: int = 0, parts: int = 1) -> Path:
    """Write ``pack`` as ``parts`` H.264 files plus ``index.json`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    clip_ids = sorted(pack)
    index = {"crf": crf, "parts": [], "clips": []}
    for part, part_ids in enumerate(np.array_split(np.array(clip_ids), parts)):
        name = f"part{part + 1}.mkv"
        _encode(np.concatenate([pack[clip_id].mouth_frames for clip_id in part_ids]), directory / name, crf)
        index["parts"].append(name)
        for clip_id in part_ids:
            clip = pack[str(clip_id)]
            index["clips"].append(
                {"id": clip.clip_id, "part": name, "frames": len(clip.mouth_frames), "sentence": clip.sentence,
                 "speech": [clip.speech_start_frame, clip.speech_end_frame], "words": clip.word_spans}
            )  # fmt: skip
    (directory / INDEX_NAME).write_text(json.dumps(index) + "\n")
    return directory


def read_compact_pack(directory) -> dict[str, PackedClip]:
    """Read a compact pack back into {clip_id: PackedClip} (T×46×140 uint8 crops)."""
    directory = Path(directory)
    index = json.loads((directory / INDEX_NAME).read_text())
    pack = {}
    for name in index["parts"]:
        frames = _decode(directory / name)
        offset = 0
        for clip in (clip for clip in index["clips"] if clip["part"] == name):
            crops = frames[offset : offset + clip["frames"]]
            if len(crops) != clip["frames"]:
                raise LipNetError(f"{directory / name} holds fewer frames than {INDEX_NAME} lists; rebuild the pack.")
            word_spans = tuple(tuple(span) for span in clip.get("words", ()))
            pack[clip["id"]] = PackedClip(clip["id"], crops, clip["sentence"], *clip["speech"], word_spans)
            offset += clip["frames"]
    return pack


def compare_packs(original: dict[str, PackedClip], copy: dict[str, PackedClip]) -> dict:
    """Largest and mean absolute differences, in grey levels and in normalised model input."""
    grey, model_input = [], []
    for clip_id, clip in original.items():
        difference = np.abs(clip.mouth_frames.astype(np.int16) - copy[clip_id].mouth_frames)
        grey.append((difference.max(), difference.mean()))
        model_input.append(np.abs(normalise_clip(clip.mouth_frames) - normalise_clip(copy[clip_id].mouth_frames)).max())
    grey = np.array(grey)
    return {"max_grey": int(grey[:, 0].max()), "mean_grey": float(grey[:, 1].mean()),
            "max_input": float(max(model_input))}
