"""Does a low-rank update of the first BiLSTM's input weights read a new face better than training them whole?

Head-only adaptation trains every weight of the head on 24 sentences; 6.5 million of its 7.1 million weights are the
first BiLSTM's input kernels (6375 features × 512 per direction). The probe trains, instead, each direction's kernel
in the form ``W₀_f·A + W₀_b·B + U·V``: the published kernels ``W₀`` of both directions (their products with each
clip's features computed once), recombined by a trained ``A``, ``B`` (starting at I and 0), plus a rank-``r`` term
``U·V`` (``U`` shared by both directions, ``V`` starting at 0), so training starts from the published network; the
rest of the head trains as the product trains it. ``fixed`` settings put ``A``, ``B`` back to their start after
every step (only ``U·V`` trains: the usual low-rank adaptation). Either folds back into one kernel of the published
shape, so the result is a ``.weights.h5`` the product reads (``--fold-check`` measures the folded network against the
trainer).

Same 5 folds of speaker 4 as the other probes (24 clips to adapt on, 6 read, all 30 readings pooled: 180 words, one
word is 0.56 points); the product's loss (CTC + 3 × the letter term on speaker 1's letter frames), Adam 1e-3, batch 8,
mirror image at random, no clips aside, no refit; ``P`` is the product's own head training in the same run.

    .venv/bin/python experiments/low_rank_probe.py --data-dir ../shared/grid --seeds 0 1 2 --ranks 16 64

Crops and features are cached under ``--cache`` (shared with the other probes); prints one row per setting.
"""

import sys
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feature_alignment_probe import (  # noqa: E402  (the same cache, folds, trainer and scores)
    HeadTrainer,
    batches_of_rows,
    fold_probe_parser,
    published_speaker_features,
    train_and_read_folds,
)

from lipnet_core.head_features import head_of  # noqa: E402
from lipnet_core.letter_timing import letter_row  # noqa: E402
from lipnet_core.losses import ctc_and_letter_loss, padded_labels  # noqa: E402
from lipnet_core.model import build_model  # noqa: E402

LETTER_WEIGHT = 3.0
LEARNING_RATE = 1e-3
BATCH_SIZE = 8
UNITS = 128  # per LSTM direction; 4 gates → 512 kernel columns


class ProductTrainer(HeadTrainer):
    """The product's head training, its step compiled with XLA (``jit_compile``) or as a graph: ``adapt`` uses the
    faster on the machine."""

    jit_compile = True

    def reset(self, seed: int) -> None:
        super().reset(seed)
        self.head.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=self.loss, jit_compile=self.jit_compile)


class LowRankTrainer:
    """The head with the first BiLSTM's input kernels in the low-rank form of the module's docstring."""

    def __init__(self, network: keras.Model, rank: int, fixed: bool, loss):
        first = network.get_layer("bidirectional")
        kernel_f, self.recurrent_f, self.bias_f = first.forward_layer.get_weights()
        kernel_b, self.recurrent_b, self.bias_b = first.backward_layer.get_weights()
        self.base_kernel = np.concatenate([kernel_f, kernel_b], axis=1)  # F × 1024: both directions' W₀
        width = self.base_kernel.shape[1]
        self.mixing_start = {"forward": np.zeros((width + rank, width // 2), np.float32),
                             "backward": np.zeros((width + rank, width // 2), np.float32)}
        self.mixing_start["forward"][: width // 2] = np.eye(width // 2)
        self.mixing_start["backward"][width // 2 : width] = np.eye(width // 2)
        self.rank, self.fixed, self.loss, self.network = rank, fixed, loss, network
        self.published_rest = {name: network.get_layer(name).get_weights() for name in ("bidirectional_1", "dense")}
        self.head = None

    def _build(self) -> keras.Model:
        width = self.base_kernel.shape[1]

        features = keras.Input((None, self.base_kernel.shape[0]), name="features")
        base = keras.Input((None, width), name="base_projection")
        down = keras.layers.Dense(self.rank, use_bias=False, name="low_rank_down")(features)
        mixed = keras.layers.Concatenate()([base, down])
        first = keras.layers.Bidirectional(keras.layers.LSTM(UNITS, return_sequences=True), name="mixed_bidirectional")
        hidden = keras.layers.Dropout(0.5)(first(mixed))
        second = keras.layers.Bidirectional(keras.layers.LSTM(UNITS, return_sequences=True), name="bidirectional_1")
        hidden = keras.layers.Dropout(0.5)(second(hidden))
        probabilities = keras.layers.Dense(41, activation="softmax", dtype="float32", name="dense")(hidden)
        return keras.Model([features, base], probabilities)

    def reset(self, seed: int) -> None:
        keras.utils.set_random_seed(seed)
        self.head = self._build()
        first = self.head.get_layer("mixed_bidirectional")
        first.forward_layer.set_weights([self.mixing_start["forward"], self.recurrent_f, self.bias_f])
        first.backward_layer.set_weights([self.mixing_start["backward"], self.recurrent_b, self.bias_b])
        for name, weights in self.published_rest.items():
            self.head.get_layer(name).set_weights(weights)
        self.head.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=self.loss, jit_compile=True)

    def _inputs(self, features: np.ndarray) -> list[np.ndarray]:
        features = features.astype(np.float32)
        return [features, features @ self.base_kernel]

    def train(self, features, labels, rng, after_epoch=None, epochs: int = 50) -> list[float]:
        """As HeadTrainer.train: ``epochs`` passes over (V, N, T, F) features, a view at random per clip."""
        views = [self._inputs(view) for view in features]
        epoch_losses = []
        for epoch in range(1, epochs + 1):
            losses = []
            for batch_rows in batches_of_rows(np.arange(features.shape[1]), BATCH_SIZE, rng):
                taken = rng.integers(0, len(views), len(batch_rows))
                batch = [np.stack([views[view][part][row] for view, row in zip(taken, batch_rows)]) for part in (0, 1)]
                losses.append(float(self.head.train_on_batch(batch, labels[batch_rows])))
                if self.fixed:
                    self._keep_mixing_at_start()
            epoch_losses.append(float(np.mean(losses)))
            if after_epoch is not None:
                after_epoch(epoch)
        return epoch_losses

    def _keep_mixing_at_start(self) -> None:
        """``fixed``: put A, B (each kernel's first 1024 rows) back to their start after a step."""
        width = self.base_kernel.shape[1]
        first = self.head.get_layer("mixed_bidirectional")
        for direction, layer in (("forward", first.forward_layer), ("backward", first.backward_layer)):
            kernel = layer.cell.kernel
            kernel.assign(keras.ops.concatenate([self.mixing_start[direction][:width], kernel[width:]], axis=0))

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.head.predict_on_batch(self._inputs(features)), dtype=np.float32)

    def folded_kernels(self) -> tuple[np.ndarray, np.ndarray]:
        """Each direction's (F × 512) input kernel of the published shape: W₀·(its mixing rows) + U·V."""
        width = self.base_kernel.shape[1]
        down = self.head.get_layer("low_rank_down").get_weights()[0]
        first = self.head.get_layer("mixed_bidirectional")
        return tuple(self.base_kernel @ layer.get_weights()[0][:width] + down @ layer.get_weights()[0][width:]
                     for layer in (first.forward_layer, first.backward_layer))

    def folded_network(self) -> keras.Model:
        """A whole network of the published shape carrying this head."""
        network = build_model(None)
        network.set_weights(self.network.get_weights())
        kernel_f, kernel_b = self.folded_kernels()
        mixed, published = self.head.get_layer("mixed_bidirectional"), network.get_layer("bidirectional")
        published.forward_layer.set_weights([kernel_f, *mixed.forward_layer.get_weights()[1:]])
        published.backward_layer.set_weights([kernel_b, *mixed.backward_layer.get_weights()[1:]])
        for name in ("bidirectional_1", "dense"):
            network.get_layer(name).set_weights(self.head.get_layer(name).get_weights())
        return network


def fold_check(trainer: LowRankTrainer, features: np.ndarray) -> float:
    """Max |difference| of class probabilities between the trainer and the folded network's head on features."""
    folded = head_of(trainer.folded_network(), features.shape[-1])
    return float(np.abs(np.asarray(folded.predict_on_batch(features.astype(np.float32))) -
                        trainer.probabilities(features)).max())


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[64])
    parser.add_argument("--settings", nargs="+", default=["P", "LR", "LRfixed"],
                        help="P: the product's head training; LR: A, B and U·V train; LRfixed: only U·V trains")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--fold-check", action="store_true")
    arguments = parser.parse_args()
    cache, network, items, frames, sentences, features = published_speaker_features(arguments)
    loss = ctc_and_letter_loss(LETTER_WEIGHT)
    letters = np.array([letter_row(sentence, len(clip)) for sentence, clip in zip(sentences, frames)])
    targets_all = np.concatenate([padded_labels(sentences), letters], axis=1)
    trainers = {}
    for name in arguments.settings:
        if name == "P":
            trainers["P"] = ProductTrainer(network, features.shape[-1], loss=loss)
        for rank in arguments.ranks if name != "P" else []:
            trainers[f"{name}{rank}"] = LowRankTrainer(network, rank, name == "LRfixed", loss)
    def folded_check(name, trainer, fold, held_out) -> str:
        if not (arguments.fold_check and fold == 0 and isinstance(trainer, LowRankTrainer)):
            return ""
        return f", folded vs trainer max |Δp| {fold_check(trainer, features[0, held_out]):.2e}"

    train_and_read_folds(trainers, features, lambda name: targets_all, sentences, arguments.seeds,
                         {"epochs": arguments.epochs}, folded_check)


if __name__ == "__main__":
    main()
