"""Now that a training step is more than twice as fast, do more than 50 epochs read a new face better?

50 epochs read better than 30 and 40 (docs/adaptation.md), and the held-out error was still falling at 50; more
epochs were too slow for the issue's 300 s until the head's BiLSTMs ran hoisted (``lipnet_core/hoisted_lstm.py``).
One training of the product's head (``P``: Adam 1e-3, batch 8, CTC + 3 × the letter term on speaker 1's letter
frames, mirror image at random, no clips aside, no refit) for ``--epochs`` epochs reads the held-out clips after each
of ``--read-after`` epochs too: each epoch count is a recipe of its own, never chosen on the clips read. Same 5 folds
of speaker 4 as the other probes (24 clips to adapt on, 6 read, all 30 readings pooled: 180 words, one word is 0.56
points). The training step is compiled as a graph (``--xla``: with XLA).

    .venv/bin/python experiments/epochs_probe.py --data-dir ../shared/grid --seeds 0 1 --epochs 100 --read-after 50 75

Crops and features are cached under ``--cache`` (shared with the other probes); prints one row per setting.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feature_alignment_probe import (  # noqa: E402  (the same cache, folds and fold loop)
    fold_probe_parser,
    published_speaker_features,
    train_and_read_folds,
)
from low_rank_probe import LETTER_WEIGHT, ProductTrainer  # noqa: E402

from lipnet_core.letter_timing import letter_row  # noqa: E402
from lipnet_core.losses import ctc_and_letter_loss, padded_labels  # noqa: E402


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--read-after", type=int, nargs="+", default=[50, 75])
    parser.add_argument("--xla", action="store_true")
    arguments = parser.parse_args()
    cache, network, items, frames, sentences, features = published_speaker_features(arguments)
    letters = np.array([letter_row(sentence, len(clip)) for sentence, clip in zip(sentences, frames)])
    targets = np.concatenate([padded_labels(sentences), letters], axis=1)
    trainer = ProductTrainer(network, features.shape[-1], loss=ctc_and_letter_loss(LETTER_WEIGHT))
    trainer.jit_compile = arguments.xla
    train_and_read_folds({"P": trainer}, features, lambda name: targets, sentences, arguments.seeds,
                         {"epochs": arguments.epochs}, read_after=tuple(arguments.read_after))


if __name__ == "__main__":
    main()
