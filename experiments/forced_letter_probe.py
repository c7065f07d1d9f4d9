"""Does the letter term, on letter frames found by forced alignment, teach the adapted head a new speaker's letters?

After head-only adaptation to speaker 4 the GRID-grammar decoder reads the letter right in about 17% of held-out
clips (docs/adaptation.md). For speaker 1 the same weakness was fixed by the letter term of ``retrain-head``
(``lipnet_training.head``: CTC + 3 × −log of the letter's mean probability over the letter's frames), which needs
word timings. Speaker 4 has no alignments; this probe finds the letter's frames by CTC forced alignment (the Viterbi
path of the known sentence through a network's per-frame probabilities) and asks:

1. **Are the forced timings right?** Speakers 26 and 31 have the corpus's alignments: each of their 20 clips is
   forced-aligned with the published network (detected crop) and every word's frames compared with the corpus's.
2. **Does the letter term then help?** The same 5 folds of speaker 4 as the other probes (24 clips to adapt on, 6
   read, all 30 readings pooled: 180 words, one word is 0.56 points), the head trained as config A of
   ``feature_alignment_probe.py`` (30 epochs, Adam 1e-3, batch 8, mirror image at random), per seed:

   - ``A``: CTC alone (the product's loss);
   - ``L``: CTC + 3 × the letter term, letter frames forced-aligned by the published network;
   - ``L2``: the same, letter frames forced-aligned by this fold's ``A`` network (trained on these very clips, so its
     path should be surer; two trainings' time).

A word's frames are those between the frames the path gives the spaces on either side of it (the first word starts
at frame 0, the last ends at the clip's end), so the blanks around a word belong to it
(``lipnet_core.forced_alignment``, which the product's adaptation now uses for ``L``).

    .venv/bin/python experiments/forced_letter_probe.py --data-dir ../shared/grid --seeds 0 1 2

Crops and features are cached under ``--cache`` (shared with the other probes); writes
``--cache``/forced_letter_seeds_<seeds>.json. ``--without-l2`` trains A and L only.
"""

import json
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
    pooled_scores,
    published_speaker_features,
    speaker_clips,
    speaker_features,
)

from lipnet_core.alignments import load_alignment  # noqa: E402
from lipnet_core.dataset import list_clips  # noqa: E402
from lipnet_core.forced_alignment import forced_letter_row, forced_path, word_frames  # noqa: E402
from lipnet_core.grid_sentences import LETTER_POSITION  # noqa: E402
from lipnet_core.losses import ctc_and_letter_loss, padded_labels  # noqa: E402
from lipnet_core.metrics import slot_accuracy  # noqa: E402
from lipnet_core.vocabulary import text_to_ids  # noqa: E402
from lipnet_training.batches import word_segments  # noqa: E402

LETTER_WEIGHT = 3.0  # as retrain-head's default
ALIGNED_SPEAKERS = ("s26", "s31")


def forced_word_frames(class_probabilities: np.ndarray, sentence: str) -> list[tuple[int, int]]:
    """Each word's frames on the forced path of ``sentence`` (lipnet_core.forced_alignment, as adaptation finds
    the letter)."""
    return word_frames(forced_path(class_probabilities, text_to_ids(sentence)), sentence)


def letter_rows(class_probabilities: np.ndarray, sentences: list[str]) -> np.ndarray:
    """(N, 3) int32 rows of the letter term for (N, T, 41) probabilities, as adaptation makes them."""
    return np.array([forced_letter_row(p, s) for p, s in zip(class_probabilities, sentences)], dtype=np.int32)


def overlap(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Intersection over union of two frame ranges."""
    inside = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inside / max(1, max(a[1], b[1]) - min(a[0], b[0]))


def timing_check(cache: Cache, data_dir: str, trainer: HeadTrainer, network) -> dict:
    """Forced word frames of the published network against the corpus's alignments, speakers 26 and 31."""
    starts, ends, overlaps, letter_overlaps, letter_centre_inside, clips = [], [], [], [], [], 0
    for speaker in ALIGNED_SPEAKERS:
        grid_clips = [clip for clip in list_clips(data_dir, speaker) if clip.alignment_path is not None]
        items = [(clip.video_path, clip.sentence(), clip.clip_id) for clip in grid_clips]
        frames, sentences, _ = speaker_clips(cache, speaker, items, "detected")
        features = speaker_features(cache, speaker, network, frames)
        trainer.reset(0)
        probabilities = trainer.probabilities(features[0])
        for clip, sentence, clip_probabilities in zip(grid_clips, sentences, probabilities):
            truth = word_segments(load_alignment(clip.alignment_path).word_spans)
            forced = forced_word_frames(clip_probabilities, sentence)
            clips += 1
            for position, (true_span, forced_span) in enumerate(zip(truth, forced)):
                starts.append(forced_span[0] - true_span[0])
                ends.append(forced_span[1] - true_span[1])
                overlaps.append(overlap(true_span, forced_span))
                if position == LETTER_POSITION:
                    letter_overlaps.append(overlaps[-1])
                    centre = (forced_span[0] + forced_span[1]) / 2
                    letter_centre_inside.append(true_span[0] <= centre < true_span[1])
    return {
        "clips": clips,
        "median_abs_start_error_frames": float(np.median(np.abs(starts))),
        "median_abs_end_error_frames": float(np.median(np.abs(ends))),
        "mean_start_error_frames": float(np.mean(starts)),
        "mean_end_error_frames": float(np.mean(ends)),
        "mean_word_overlap": float(np.mean(overlaps)),
        "mean_letter_overlap": float(np.mean(letter_overlaps)),
        "letter_centre_inside_true_letter": float(np.mean(letter_centre_inside)),
    }


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0, 1, 2])
    parser.add_argument("--letter-weight", type=float, default=LETTER_WEIGHT)
    parser.add_argument("--without-l2", action="store_true", help="train A and L only (L2 needs a second training)")
    arguments = parser.parse_args()
    cache, network, items, frames, sentences, features = published_speaker_features(arguments)
    ctc_trainer = HeadTrainer(network, features.shape[-1])
    letter_trainer = HeadTrainer(network, features.shape[-1], loss=ctc_and_letter_loss(arguments.letter_weight))
    started = time.perf_counter()

    timing = timing_check(cache, arguments.data_dir, ctc_trainer, network)
    print(f"forced timings against the corpus's ({', '.join(ALIGNED_SPEAKERS)}): {timing}", flush=True)

    labels = padded_labels(sentences)
    ctc_trainer.reset(0)
    published_probabilities = ctc_trainer.probabilities(features[0])
    published_rows = letter_rows(published_probabilities, sentences)
    print(f"published network's forced letter frames on {arguments.speaker}: lengths "
          f"{np.percentile(published_rows[:, 1] - published_rows[:, 0], [0, 50, 100]).tolist()}", flush=True)

    readings, truths = PooledReadings(), []
    note = readings.note

    for fold, held_out in enumerate(folds_of(len(items), 5)):
        adaptation = [index for index in range(features.shape[1]) if index not in held_out]
        held = features[0, held_out]
        truths += [sentences[index] for index in held_out]
        adaptation_sentences = [sentences[index] for index in adaptation]
        for seed in arguments.seeds:
            ctc_trainer.reset(seed)
            losses = ctc_trainer.train(features[:, adaptation], labels[adaptation], np.random.default_rng(seed))
            note(f"A seed {seed}", ctc_trainer.probabilities(held))
            line = f"fold {fold} seed {seed}: A loss {losses[-1]:.2f}"
            settings = [("L", published_rows[adaptation])]
            if not arguments.without_l2:
                own = ctc_trainer.probabilities(features[0, adaptation])
                own_rows = letter_rows(own, adaptation_sentences)
                agree = np.mean([overlap(a[:2], b[:2]) for a, b in zip(own_rows, published_rows[adaptation])])
                line += f" (its letter frames overlap the published network's by {agree:.2f})"
                settings.append(("L2", own_rows))
            for name, rows in settings:
                letter_trainer.reset(seed)
                targets = np.concatenate([labels[adaptation], rows], axis=1)
                losses = letter_trainer.train(features[:, adaptation], targets, np.random.default_rng(seed))
                note(f"{name} seed {seed}", letter_trainer.probabilities(held))
                line += f", {name} loss {losses[-1]:.2f}"
            print(f"{line}; {time.perf_counter() - started:.0f} s", flush=True)

    rows = [{"setting": name, **pooled_scores(truths, greedy, grid),
             "letter_right": slot_accuracy(truths, grid)[LETTER_POSITION]} for name, (greedy, grid) in readings.items()]
    for row in rows:
        print(f"{row['setting']:<12}grid WER {row['grid_wer']:6.1%}   greedy WER {row['greedy_wer']:6.1%}   "
              f"letter right {row['letter_right']:6.1%}")
    document = {"what": "pooled 5-fold held-out WER of speaker-4 readings; see experiments/forced_letter_probe.py",
                "seeds": arguments.seeds, "letter_weight": arguments.letter_weight, "timing_check": timing,
                "seconds": round(time.perf_counter() - started, 1), "rows": rows}
    out_path = cache.folder / f"forced_letter_seeds_{'_'.join(map(str, arguments.seeds))}.json"
    out_path.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
