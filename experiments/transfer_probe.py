"""Does keeping more of what the published network knows of speaker 1 help it adapt to a new face?

After adaptation (the letter term, the mirror image) the GRID-grammar decoder still reads speaker 4's letter and digit
near chance: 24 sentences hold about one example of each letter and two of each digit, too few to learn them, so
whatever the adapted network reads of them it must carry over from speaker 1. Head training moves every weight of
the head freely for 90 steps. Same 5 folds of speaker 4 as the other probes (24 clips to adapt on, 6 read, all 30
readings pooled: 180 words, one word is 0.56 points), CTC + 3 × the letter term on the letter's frames forced by
the published network (the product's loss when this ran), 30 epochs, batch 8, mirror image at random, no clips
aside, no refit; every setting's readings are taken once and with the mirror image (averaged). Settings:

- ``L``: the product's head training (Adam 1e-3), for comparison within the run;
- ``FD``: L behind a dropout of ``--feature-dropout`` on the convolutional features (``head_of``'s own option);
- ``FIRST``: L training only the first BiLSTM (the second BiLSTM and the softmax keep speaker 1's weights);
- ``SP``: L pulled toward the published weights: after every step each head weight w moves ``--pull`` of the way
  back to its published value w0 (w ← w − pull·(w − w0), a decoupled L2-SP);
- ``AFF``: the head frozen; only a per-feature affine in front of it (x' = a·x + c, 2 × 6375 weights) is trained, at
  Adam 1e-2, starting from the label-free mapping of the fold's 24 clips' feature statistics onto speaker 1's
  (config B of ``feature_alignment_probe.py``). The affine folds into the first BiLSTM's input weights, so the
  result is still one network of the published shape.

    .venv/bin/python experiments/transfer_probe.py --data-dir ../shared/grid --seeds 0 --settings L FD FIRST SP AFF

Crops and features are cached under ``--cache`` (shared with the other probes; the speaker-1 statistics need
``feature_alignment_probe.py``'s cached speaker-1 features); prints one row per setting.
"""

import sys
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adaptation_study import folds_of  # noqa: E402
from feature_alignment_probe import (  # noqa: E402  (the same cache, folds, trainer and scores)
    HeadTrainer,
    PooledReadings,
    alignment_affine,
    fold_probe_parser,
    frame_statistics,
    published_speaker_features,
)
from forced_letter_probe import LETTER_WEIGHT, letter_rows  # noqa: E402  (the letter rows as adaptation makes them)

from lipnet_core.head_features import HEAD_LAYERS  # noqa: E402
from lipnet_core.losses import ctc_and_letter_loss, padded_labels  # noqa: E402

SPEAKER1_FEATURES = "s1_train60_features"  # feature_alignment_probe.py caches these (60 training clips)
AFFINE_LEARNING_RATE = 1e-2


class FeatureAffine(keras.layers.Layer):
    """x' = scale·x + shift, one (scale, shift) per feature."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")
        self.shift = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="shift")

    def call(self, inputs):
        return inputs * self.scale + self.shift


class TransferTrainer(HeadTrainer):
    """HeadTrainer with a feature dropout, some head layers frozen, a pull toward the published weights, or a
    trainable affine in front of the head."""

    def __init__(self, network, feature_size, loss, feature_dropout=0.0, frozen=(), pull=0.0, affine=False,
                 learning_rate=1e-3):
        super().__init__(network, feature_size, loss)
        self.affine = FeatureAffine(name="feature_affine") if affine else None
        layers = [keras.Input((None, feature_size)), keras.layers.Dropout(feature_dropout, name="feature_dropout")]
        layers += [self.affine] if affine else []
        self.head = keras.Sequential(layers + [network.get_layer(name) for name in HEAD_LAYERS])
        self.frozen, self.pull, self.learning_rate = frozen, pull, learning_rate
        self.published_layers = [network.get_layer(name).get_weights() for name in HEAD_LAYERS]

    def reset(self, seed: int, start_affine=None) -> None:
        for name, weights in zip(HEAD_LAYERS, self.published_layers):
            self.network.get_layer(name).set_weights(weights)
        for name in HEAD_LAYERS:
            self.network.get_layer(name).trainable = name not in self.frozen
        if self.affine is not None:
            self.affine.set_weights([np.asarray(part, np.float32) for part in start_affine])
        keras.utils.set_random_seed(seed)
        self.head.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss=self.loss)
        self.compiled_steps.clear()
        self.start = [variable.numpy() for variable in self.head.trainable_variables]

    def step(self, batch, labels) -> float:
        loss = super().step(batch, labels)
        if self.pull:
            for variable, start in zip(self.head.trainable_variables, self.start):
                value = variable.numpy()
                variable.assign(value - self.pull * (value - start))
        return loss

    def release(self) -> None:
        """Every head layer trainable again (the layers are shared with the other trainers)."""
        for name in HEAD_LAYERS:
            self.network.get_layer(name).trainable = True


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0])
    parser.add_argument("--settings", nargs="+", default=["L", "FD", "FIRST", "SP", "AFF"])
    parser.add_argument("--feature-dropout", type=float, default=0.3)
    parser.add_argument("--pull", type=float, default=0.02)
    arguments = parser.parse_args()
    cache, network, items, frames, sentences, features = published_speaker_features(arguments)
    speaker1_stats = frame_statistics(cache.array(SPEAKER1_FEATURES, lambda: sys.exit(
        f"run feature_alignment_probe.py first: it caches {SPEAKER1_FEATURES}"))[0])
    labels = padded_labels(sentences)
    published = HeadTrainer(network, features.shape[-1])
    published.reset(0)
    rows = letter_rows(published.probabilities(features[0]), sentences)
    loss = ctc_and_letter_loss(LETTER_WEIGHT)
    every = {
        "L": dict(),
        "FD": dict(feature_dropout=arguments.feature_dropout),
        "FIRST": dict(frozen=("bidirectional_1", "dense")),
        "SP": dict(pull=arguments.pull),
        "AFF": dict(frozen=HEAD_LAYERS, affine=True, learning_rate=AFFINE_LEARNING_RATE),
    }
    trainers = {name: TransferTrainer(network, features.shape[-1], loss, **every[name]) for name in arguments.settings}
    readings, truths, started = PooledReadings(), [], time.perf_counter()

    for fold, held_out in enumerate(folds_of(len(items), 5)):
        adaptation = [index for index in range(features.shape[1]) if index not in held_out]
        truths += [sentences[index] for index in held_out]
        targets = np.concatenate([labels[adaptation], rows[adaptation]], axis=1)
        affine = alignment_affine(speaker1_stats, frame_statistics(features[0, adaptation]))
        for seed in arguments.seeds:
            line = f"fold {fold} seed {seed}"
            for name, trainer in trainers.items():
                trainer.reset(seed, affine)
                losses = trainer.train(features[:, adaptation], targets, np.random.default_rng(seed))
                readings.note_once_and_mirrored(name, seed, trainer, features[:, held_out])
                trainer.release()
                line += f", {name} loss {losses[-1]:.2f}"
            print(f"{line}; {time.perf_counter() - started:.0f} s", flush=True)

    readings.print_rows(truths)


if __name__ == "__main__":
    main()
