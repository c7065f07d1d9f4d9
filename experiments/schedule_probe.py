"""Does a decaying learning rate read a new face better than the product's constant one, in the same 50 epochs?

The product trains the head with Adam at 1e-3 throughout; 50 epochs read better than 30 and 40 (docs/adaptation.md),
so the held-out error was still falling. ``cos``: the same Adam, its rate following a cosine from ``--peak`` down to 0
over all the training's steps (Keras's ``CosineDecay``), so the last epochs take small steps. Same 5 folds of speaker
4 as the other probes (24 clips to adapt on, 6 read, all 30 readings pooled: 180 words, one word is 0.56 points),
the product's loss (CTC + 3 × the letter term on speaker 1's letter frames), batch 8, mirror image at random, no
clips aside, no refit; ``P`` is the product's own head training in the same run.

    .venv/bin/python experiments/schedule_probe.py --data-dir ../shared/grid --seeds 0 1 2 --peaks 1e-3 2e-3

Crops and features are cached under ``--cache`` (shared with the other probes); prints one row per setting.
"""

import sys
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adaptation_study import folds_of  # noqa: E402
from feature_alignment_probe import (  # noqa: E402  (the same cache, folds and fold loop)
    fold_probe_parser,
    published_speaker_features,
    train_and_read_folds,
)
from low_rank_probe import LETTER_WEIGHT, ProductTrainer  # noqa: E402

from lipnet_core.letter_timing import letter_row  # noqa: E402
from lipnet_core.losses import ctc_and_letter_loss, padded_labels  # noqa: E402

BATCH_SIZE = 8


class CosineTrainer(ProductTrainer):
    """The product's head training with the rate following a cosine from ``peak`` to 0 over ``steps``."""

    def __init__(self, network, feature_size, loss, peak: float, steps: int):
        super().__init__(network, feature_size, loss=loss)
        self.peak, self.steps = peak, steps

    def reset(self, seed: int) -> None:
        super().reset(seed)
        schedule = keras.optimizers.schedules.CosineDecay(self.peak, self.steps)
        self.head.compile(optimizer=keras.optimizers.Adam(schedule), loss=self.loss, jit_compile=True)


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0])
    parser.add_argument("--peaks", type=float, nargs="+", default=[1e-3])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--without-product", action="store_true", help="skip P (the constant rate)")
    arguments = parser.parse_args()
    cache, network, items, frames, sentences, features = published_speaker_features(arguments)
    loss = ctc_and_letter_loss(LETTER_WEIGHT)
    letters = np.array([letter_row(sentence, len(clip)) for sentence, clip in zip(sentences, frames)])
    targets = np.concatenate([padded_labels(sentences), letters], axis=1)
    folds = folds_of(len(items), 5)
    steps = arguments.epochs * -(-(len(items) - len(folds[0])) // BATCH_SIZE)  # every fold adapts on 24 clips
    trainers = {} if arguments.without_product else {"P": ProductTrainer(network, features.shape[-1], loss=loss)}
    trainers.update({f"cos{peak:g}": CosineTrainer(network, features.shape[-1], loss, peak, steps)
                     for peak in arguments.peaks})
    train_and_read_folds(trainers, features, lambda name: targets, sentences, arguments.seeds,
                         {"epochs": arguments.epochs})


if __name__ == "__main__":
    main()
