"""What word splicing does to GRID clips: ``python experiments/splice_probe.py --pack P [--weights W] [--clips F]``.

Splicing builds new training sentences by cutting words out of other training clips (the retired ``train
--splice-words``, tag experiments-2026-12), to stop a network learning a clip's letter from its other words. This
script measures, on the clips of ``models/split.json``'s validation list (or the ids in ``--clips``, one per line),
each joined to the next clip of the list:

- how far apart the frames are where a splice joins two clips (mean absolute difference of the normalised crops,
  the 6-pixel border left out), as cut and after the best shift of up to 6 pixels each way, against consecutive
  frames within a clip;
- how the weights read each clip (GRID-grammar decoder) as it is and with the words at ``--swap`` positions (by
  default the command, colour and adverb, the words farthest from the letter) swapped for the next clip's: how
  often the preposition, letter and digit, which keep their own frames, are still read right, and how often the
  letter read is the other clip's (what a network that learnt each training sentence's letter from its other words
  would say).

Figures, not a pass/fail test (docs/experiments.md reports them). ``--pack`` is a training pack with word spans (built
by ``train``, by default ``cache/training_pack.npz`` under its ``--out``).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from lipnet_core.normalise import normalise_clip
from lipnet_training.batches import word_segments
from lipnet_training.pack import load_training_pack


# The product's batches made spliced clips until the splices were retired (tag experiments-2026-12); the probe keeps
# its own copy of the two functions it measures.
def splice_words(model_input: np.ndarray, word_spans, replacements: dict) -> tuple[np.ndarray, tuple]:
    """``model_input`` (T, ...) with the words at the positions of ``replacements`` ({position: (donor input, donor
    word spans)}) swapped for the donors' words at those positions; the frames between and around the words stay.
    Returns the new input and its word spans."""
    pieces, spans, cursor, length = [], [], 0, 0
    for position, (start, end) in enumerate(word_segments(word_spans)):
        if position in replacements:
            donor_input, donor_spans = replacements[position]
            donor_start, donor_end = word_segments(donor_spans)[position]
            word = donor_input[donor_start:donor_end]
        else:
            word = model_input[start:end]
        length += start - cursor  # the frames before this word, which stay
        spans.append((length, length + len(word)))
        length += len(word)
        pieces += [model_input[cursor:start], word]
        cursor = end
    pieces.append(model_input[cursor:])
    return np.concatenate(pieces), tuple(spans)


def shift_frames(model_input: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """(T, H, W, 1) → the same shape with the picture moved down by ``rows`` and right by ``columns`` pixels (negative
    moves up / left); the edge pixels fill the strip that is uncovered."""
    margin = max(abs(rows), abs(columns))
    if margin == 0:
        return model_input
    height, width = model_input.shape[1:3]
    padded = np.pad(model_input, ((0, 0), (margin, margin), (margin, margin), (0, 0)), mode="edge")
    return padded[:, margin - rows : margin - rows + height, margin - columns : margin - columns + width]

GRID_SLOTS = ("command", "colour", "preposition", "letter", "digit", "adverb")
LETTER = GRID_SLOTS.index("letter")
BORDER = 6


def frame_distance(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.abs(first - second)[..., BORDER:-BORDER, BORDER:-BORDER, :].mean())


def seam_figures(pairs) -> dict[str, list[float]]:
    """For each (clip, next clip) pair: the join before the next clip's adverb, as cut and at the best shift, and the
    median and largest step between consecutive frames of the clip."""
    figures = {"seam as cut": [], "seam after the best shift": [], "median step within a clip": [],
               "largest step within a clip": []}
    for (host, host_input), (donor, donor_input) in pairs:
        before = host_input[word_segments(host.word_spans)[-1][0] - 1]
        after = donor_input[word_segments(donor.word_spans)[-1][0]]
        figures["seam as cut"].append(frame_distance(before, after))
        figures["seam after the best shift"].append(min(
            frame_distance(before, shift_frames(after[None], rows, columns)[0])
            for rows in range(-BORDER, BORDER + 1) for columns in range(-BORDER, BORDER + 1)
        ))
        steps = [frame_distance(a, b) for a, b in zip(host_input[:-1], host_input[1:])]
        figures["median step within a clip"].append(float(np.median(steps)))
        figures["largest step within a clip"].append(max(steps))
    return figures


def reading_figures(pairs, weights, swapped_positions) -> dict[str, int]:
    from lipnet_core.reader import LipReader

    reader = LipReader(weights)

    def words_read(model_input):
        words = reader.decode(reader.probabilities(model_input), ("grid",))["grid"].text.split()
        return words if len(words) == len(GRID_SLOTS) else [None] * len(GRID_SLOTS)

    counts = {}
    kept = [position for position in range(len(GRID_SLOTS)) if position not in swapped_positions]
    for (host, host_input), (donor, donor_input) in pairs:
        truth, donor_truth = host.sentence.split(), donor.sentence.split()
        swapped, _ = splice_words(host_input, host.word_spans,
                                  {position: (donor_input, donor.word_spans) for position in swapped_positions})
        for name, words in (("as it is", words_read(host_input)), ("swapped", words_read(swapped))):
            for position in kept:
                key = f"{name}: {GRID_SLOTS[position]} right"
                counts[key] = counts.get(key, 0) + (words[position] == truth[position])
            if name == "swapped" and donor_truth[LETTER] != truth[LETTER]:
                counts["swapped: the other clip's letter"] = counts.get("swapped: the other clip's letter", 0) + (
                    words[LETTER] == donor_truth[LETTER])
                counts["(clips whose letters differ)"] = counts.get("(clips whose letters differ)", 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", required=True)
    parser.add_argument("--weights", help="read the clips with these weights too (default: seams only)")
    parser.add_argument("--clips", help="a file of clip ids, one per line (default: the validation split)")
    parser.add_argument("--split", default="models/split.json")
    parser.add_argument("--swap", default="0,1,5", help="word positions to swap, 0-5 (default: 0,1,5)")
    arguments = parser.parse_args()
    if arguments.clips:
        clip_ids = Path(arguments.clips).read_text().split()
    else:
        clip_ids = json.loads(Path(arguments.split).read_text())["validation"]
    pack = load_training_pack(arguments.pack)
    clips = [(pack[clip_id], normalise_clip(pack[clip_id].mouth_frames)) for clip_id in clip_ids]
    pairs = list(zip(clips, clips[1:] + clips[:1]))
    for name, values in seam_figures(pairs).items():
        print(f"{name}: median {np.median(values):.3f}, {min(values):.3f}-{max(values):.3f} over {len(values)} clips")
    if arguments.weights:
        swapped = tuple(int(position) for position in arguments.swap.split(","))
        print(f"swapped: {', '.join(GRID_SLOTS[position] for position in swapped)}")
        for name, count in reading_figures(pairs, arguments.weights, swapped).items():
            print(f"{name}: {count} of {len(pairs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
