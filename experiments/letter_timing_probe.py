"""Does the letter term teach a new face's letter better on frames where the letter is likely said?

The product's letter term (docs/adaptation.md) takes the letter's frames from CTC forced alignment through the
published network, and on speakers 26 and 31, whose corpus alignments say where each word is, those frames overlap
the true letter by 0.04 (intersection over union): they are not where the letter is said. Two label-free guesses:

- ``P``: the same frames for every clip, speaker 1's median letter (from its 900 corpus alignments: frames 30–35);
- ``M``: the letter at speaker 1's median place *within the speech*, the speech found from the mouth's motion (mean
  absolute difference between successive crops, smoothed over 5 frames; speech where it is above ``--motion-level``
  of the way from its 10th to its 90th percentile).

``--timing-check`` prints how each guess overlaps the corpus's letter on the 20 clips of speakers 26 and 31. Then the
same 5 folds of speaker 4 as the other probes (24 clips to adapt on, 6 read, all 30 readings pooled: 180 words, one
word is 0.56 points), the head trained as the product trains it (CTC + 3 × the letter term, 30 epochs, Adam 1e-3,
batch 8, mirror image at random; no clips aside, no refit), with the letter's frames from forced alignment (``L``,
the recipe until then), ``P`` (the product's since) or ``M``; each read once and with the mirror image.
``--letter-weights`` trains each setting with each weight of the letter term (the product's is 3); ``--read-at-epochs``
trains for the largest number of epochs given and reads the held-out clips after each (the product trains 30).

    .venv/bin/python experiments/letter_timing_probe.py --data-dir ../shared/grid --seeds 0 --timing-check
    .venv/bin/python experiments/letter_timing_probe.py --data-dir ../shared/grid --seeds 0 1 2 --settings P \\
        --letter-weights 3 10 30

Crops and features are cached under ``--cache`` (shared with the other probes); prints one row per setting.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adaptation_study import folds_of  # noqa: E402
from feature_alignment_probe import (  # noqa: E402  (the same cache, folds, trainer and scores)
    Cache,
    HeadTrainer,
    PooledReadings,
    fold_probe_parser,
    published_speaker_features,
    speaker_clips,
    speaker_features,
)
from forced_letter_probe import LETTER_WEIGHT, letter_rows, overlap  # noqa: E402

from lipnet_core.alignments import load_alignment  # noqa: E402
from lipnet_core.dataset import list_clips  # noqa: E402
from lipnet_core.grid_sentences import GRID_SLOT_NAMES, LETTER_POSITION  # noqa: E402
from lipnet_core.losses import ctc_and_letter_loss, padded_labels  # noqa: E402
from lipnet_core.vocabulary import text_to_ids  # noqa: E402

MOTION_SMOOTHING = 5  # frames


def speaker1_word_spans(data_dir: str) -> np.ndarray:
    """(N, 6, 2) frames of the six words of speaker 1's aligned GRID sentences."""
    spans = [load_alignment(clip.alignment_path).word_spans for clip in list_clips(data_dir, "s1")]
    return np.array([clip_spans for clip_spans in spans if len(clip_spans) == len(GRID_SLOT_NAMES)])


def speech_bounds(mouth_frames: np.ndarray, level: float) -> tuple[int, int]:
    """(first, end) frame of speech in (T, H, W) crops, from the mouth's motion."""
    motion = np.abs(np.diff(mouth_frames.astype(np.float32), axis=0)).mean(axis=(1, 2))
    motion = np.convolve(motion, np.ones(MOTION_SMOOTHING) / MOTION_SMOOTHING, mode="same")
    low, high = np.percentile(motion, [10, 90])
    moving = np.flatnonzero(motion > low + level * (high - low))
    return int(moving[0]), int(moving[-1]) + 2  # a difference t sits between frames t and t + 1


class LetterGuesses:
    """Label-free guesses of the letter's frames, from speaker 1's corpus timings."""

    def __init__(self, speaker1_spans: np.ndarray, motion_level: float):
        self.fixed = tuple(int(frame) for frame in np.median(speaker1_spans[:, LETTER_POSITION], axis=0))
        speech = speaker1_spans[:, -1, 1:2] - speaker1_spans[:, 0, 0:1]
        self.within_speech = np.median((speaker1_spans[:, LETTER_POSITION] - speaker1_spans[:, 0, 0:1]) / speech, 0)
        self.motion_level = motion_level

    def from_motion(self, mouth_frames: np.ndarray) -> tuple[int, int]:
        first, end = speech_bounds(mouth_frames, self.motion_level)
        start, stop = np.round(first + self.within_speech * (end - first)).astype(int)
        return int(start), max(int(stop), int(start) + 1)

    def rows(self, setting: str, frames: np.ndarray, sentences: list[str]) -> np.ndarray:
        letters = [int(text_to_ids(sentence.split()[LETTER_POSITION])[0]) for sentence in sentences]
        spans = [self.fixed] * len(sentences) if setting == "P" else [self.from_motion(clip) for clip in frames]
        return np.array([[*span, letter] for span, letter in zip(spans, letters)], dtype=np.int32)


def timing_check(cache: Cache, data_dir: str, guesses: LetterGuesses, trainer: HeadTrainer, network) -> None:
    for speaker in ("s26", "s31"):
        clips = list_clips(data_dir, speaker)
        items = [(clip.video_path, clip.sentence(), clip.clip_id) for clip in clips]
        frames, sentences, _ = speaker_clips(cache, speaker, items, "detected")
        truth = [load_alignment(clip.alignment_path).word_spans[LETTER_POSITION] for clip in clips]
        forced = letter_rows(trainer.probabilities(speaker_features(cache, speaker, network, frames)[0]), sentences)
        for name, rows in (("forced (L)", forced), ("P", guesses.rows("P", frames, sentences)),
                           ("M", guesses.rows("M", frames, sentences))):
            print(f"{speaker} letter frames {name}: overlap with the corpus's "
                  f"{np.mean([overlap(tuple(row[:2]), span) for row, span in zip(rows, truth)]):.2f}", flush=True)


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0])
    parser.add_argument("--settings", nargs="+", default=["L", "P", "M"])
    parser.add_argument("--letter-weights", type=float, nargs="+", default=[LETTER_WEIGHT],
                        help="the letter term's weight; with several, each setting is trained with each")
    parser.add_argument("--read-at-epochs", type=int, nargs="+", default=None,
                        help="train for the largest and read the held-out clips after each of these epochs")
    parser.add_argument("--motion-level", type=float, default=0.2)
    parser.add_argument("--timing-check", action="store_true")
    arguments = parser.parse_args()
    cache, network, items, frames, sentences, features = published_speaker_features(arguments)
    guesses = LetterGuesses(speaker1_word_spans(arguments.data_dir), arguments.motion_level)
    print(f"P: frames {guesses.fixed}; M: the letter at {guesses.within_speech.round(3)} of the speech", flush=True)
    labels = padded_labels(sentences)
    trainers = {weight: HeadTrainer(network, features.shape[-1], loss=ctc_and_letter_loss(weight))
                for weight in arguments.letter_weights}
    trainer = trainers[arguments.letter_weights[0]]
    trainer.reset(0)
    if arguments.timing_check:
        timing_check(cache, arguments.data_dir, guesses, trainer, network)
    rows = {"L": letter_rows(trainer.probabilities(features[0]), sentences)}
    rows.update({name: guesses.rows(name, frames, sentences) for name in ("P", "M")})
    readings, truths, started = PooledReadings(), [], time.perf_counter()

    for fold, held_out in enumerate(folds_of(len(items), 5)):
        adaptation = [index for index in range(features.shape[1]) if index not in held_out]
        truths += [sentences[index] for index in held_out]
        for seed in arguments.seeds:
            line = f"fold {fold} seed {seed}"
            for name in arguments.settings:
                for weight, trainer in trainers.items():
                    setting = name if len(trainers) == 1 else f"{name}x{weight:g}"
                    targets = np.concatenate([labels[adaptation], rows[name][adaptation]], axis=1)
                    trainer.reset(seed)
                    if arguments.read_at_epochs:
                        note_at = readings.reader_after(arguments.read_at_epochs, setting, seed, trainer,
                                                        features[:, held_out])
                        losses = trainer.train(features[:, adaptation], targets, np.random.default_rng(seed),
                                               after_epoch=note_at, epochs=max(arguments.read_at_epochs))
                    else:
                        losses = trainer.train(features[:, adaptation], targets, np.random.default_rng(seed))
                        readings.note_once_and_mirrored(setting, seed, trainer, features[:, held_out])
                    line += f", {setting} loss {losses[-1]:.2f}"
            print(f"{line}; {time.perf_counter() - started:.0f} s", flush=True)

    readings.print_rows(truths)


if __name__ == "__main__":
    main()
