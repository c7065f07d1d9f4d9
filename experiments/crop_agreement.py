"""How far the detected mouth box lies from speaker 1's fixed GRID box, per GRID speaker.

``auto`` keeps the fixed box only when the detected one agrees with it within a few pixels (see
``lipnet_core.preprocessing.GRID_AGREEMENT_PIXELS``): this measures the largest edge offset on speaker 1's held-out
clips and on the other speakers' clips, so the tolerance can be chosen between the two. It also saves, per speaker,
one middle frame with both boxes drawn (green: detected, red: fixed) for a look.

    python experiments/crop_agreement.py --data-dir ../shared/grid --out /tmp/crop-agreement
"""

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from lipnet_core.crop_box import GRID_BOX
from lipnet_core.dataset import list_clips, load_split
from lipnet_core.face_detection import detect_mouth_box
from lipnet_core.paths import SPLIT_PATH
from lipnet_core.video import read_clip


def edge_offset(box) -> int:
    return max(abs(getattr(box, edge) - getattr(GRID_BOX, edge)) for edge in ("top", "left", "bottom", "right"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--speakers", nargs="+", default=["s1", "s4", "s26", "s31"])
    arguments = parser.parse_args()
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    held_out = set(load_split(SPLIT_PATH)["test"])
    report = {}
    for speaker in arguments.speakers:
        clips = list_clips(arguments.data_dir, speaker)
        if speaker == "s1":
            clips = [clip for clip in clips if clip.clip_id in held_out]
        offsets = []
        for index, clip in enumerate(clips):
            frames = read_clip(clip.video_path).frames
            box = detect_mouth_box(frames)
            offsets.append(edge_offset(box))
            if index == 0:
                picture = frames[len(frames) // 2].copy()
                cv2.rectangle(picture, (GRID_BOX.left, GRID_BOX.top), (GRID_BOX.right, GRID_BOX.bottom), (0, 0, 255), 1)
                cv2.rectangle(picture, (box.left, box.top), (box.right, box.bottom), (0, 255, 0), 1)
                cv2.imwrite(str(out / f"{speaker}_{clip.clip_id}.png"), picture)
        offsets = np.array(offsets)
        report[speaker] = {"clips": len(offsets), "min": int(offsets.min()), "median": float(np.median(offsets)),
                           "p95": float(np.percentile(offsets, 95)), "max": int(offsets.max()),
                           "within_12": int((offsets <= 12).sum())}
        print(speaker, report[speaker], flush=True)
    (out / "crop_agreement.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
