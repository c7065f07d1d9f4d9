"""Does reading each held-out clip in more views than itself and its mirror image read a new face better?

The adapted network reads each clip and its mirror image and averages the two outputs (docs/adaptation.md: better
with most probe networks). ``shifts``: the same networks also read the clip moved 2 pixels left and right inside
the mouth crop (the crop's edge repeated), and the mirror image of each, all outputs averaged (six views). Reading
only: the head trains as the product trains it (P: 50 epochs, Adam 1e-3, batch 8, CTC + 3 × the letter term on
speaker 1's letter frames, mirror image at random, no clips aside, no refit), so every setting is read by the same
networks. Same 5 folds of speaker 4 as the other probes (24 clips to adapt on, 6 read, all 30 readings pooled: 180
words, one word is 0.56 points). The training step is compiled as a graph, the faster way on the AVX2 machine it
first ran on (``--xla``: with XLA).

    .venv/bin/python experiments/reading_views_probe.py --data-dir ../shared/grid --seeds 0

Crops and features are cached under ``--cache`` (shared with the other probes); prints one row per setting.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feature_alignment_probe import (  # noqa: E402  (the same cache, folds and fold loop)
    FEATURE_BATCH,
    NUM_FRAMES,
    PooledReadings,
    fold_probe_parser,
    published_speaker_features,
    train_and_read_folds,
)
from low_rank_probe import LETTER_WEIGHT, ProductTrainer  # noqa: E402

from lipnet_core.head_features import clip_features  # noqa: E402
from lipnet_core.letter_timing import letter_row  # noqa: E402
from lipnet_core.losses import ctc_and_letter_loss, padded_labels  # noqa: E402
from lipnet_core.normalise import normalise_clip  # noqa: E402

SHIFT = 2  # pixels, left and right


def shifted(mouth_frames: np.ndarray, columns: int) -> np.ndarray:
    """(T, H, W) frames moved ``columns`` to the right (left if negative), the edge column repeated."""
    padded = np.pad(mouth_frames, [(0, 0), (0, 0), (abs(columns), abs(columns))], mode="edge")
    start = abs(columns) - columns
    return padded[:, :, start : start + mouth_frames.shape[2]]


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0])
    parser.add_argument("--xla", action="store_true")
    arguments = parser.parse_args()
    cache, network, items, frames, sentences, features = published_speaker_features(arguments)

    def compute_shifted() -> np.ndarray:  # (4 views, N, T, F): left, right, and their mirror images
        views = []
        for columns in (-SHIFT, SHIFT):
            inputs = [normalise_clip(shifted(clip, columns)) for clip in frames]
            views.append(inputs)
            views.append([model_input[:, :, ::-1] for model_input in inputs])
        return np.stack([clip_features(network, view, NUM_FRAMES, FEATURE_BATCH) for view in views])

    shifted_features = cache.array(f"{arguments.speaker}_shifted{SHIFT}_features", compute_shifted)
    loss = ctc_and_letter_loss(LETTER_WEIGHT)
    letters = np.array([letter_row(sentence, len(clip)) for sentence, clip in zip(sentences, frames)])
    targets = np.concatenate([padded_labels(sentences), letters], axis=1)
    trainers = {"P": ProductTrainer(network, features.shape[-1], loss=loss)}
    trainers["P"].jit_compile = arguments.xla
    more, truths = PooledReadings(), []

    def read_more(name, trainer, fold, held_out) -> str:
        if name == "P":
            truths.extend(sentences[index] for index in held_out)
        once, mirrored = (trainer.probabilities(view) for view in features[:, held_out])
        moved = [trainer.probabilities(view) for view in shifted_features[:, held_out]]
        more.note(f"{name}+shifts", (once + moved[0] + moved[2]) / 3)
        more.note(f"{name}+mirror+shifts", (once + mirrored + sum(moved)) / 6)
        return ""

    train_and_read_folds(trainers, features, lambda name: targets, sentences, arguments.seeds, {"epochs": 50},
                         read_more)
    more.print_rows(truths)


if __name__ == "__main__":
    main()
