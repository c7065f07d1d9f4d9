"""Does letting the last 3D convolution adapt too beat head-only adaptation, within the 300-second budget?

Head-only adaptation (``lipnet_core.adaptation``) reads held-out speaker-4 clips at 49–58% GRID-grammar WER
(``experiments/feature_alignment_probe.py``, config A over three seeds). Training the last convolution through the
whole network cost about 13 s an epoch on this CPU, over budget. Most of that is the first two convolutions, which
stay frozen: their output (after the second max-pool, (T, 11, 35, 256) per clip) can be computed once per clip and
view, like the head's features, and only the last convolution and the head run at each step.

Measured as the alignment probe measures: 5-fold over the 30 clips of speaker 4 (``folds_of(30, 5)``), each fold's
6 clips read by a network adapted on the other 24 (plain and mirrored views, one at random per step, batches of 8),
every held-out reading pooled (180 words; one word is 0.56 points). Configurations:

- ``head``: the head alone on the pooled features (the product's training, for the same seeds, through this code).
- ``conv``: the last convolution and the head, one Adam learning rate.
- ``conv_slow``: the same with the convolution's gradient scaled by ``--conv-scale`` (a smaller step for it).

Run (from the project root, one heavy process at a time on a 2-core CPU):

    .venv/bin/python experiments/last_conv_probe.py --data-dir ../shared/grid --configs conv --seeds 0 --only-folds 0

What it found (docs/adaptation.md): on fold 0 with seed 0, 55.6% GRID-grammar WER after 336 s of training for that
fold alone (head-only training read the same clips at 52.8–63.9% over three seeds); the other folds were not run.

Crops and pooled features are cached under ``--cache``; rows go to ``--cache``/results.json.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from adaptation_study import folds_of  # noqa: E402
from feature_alignment_probe import (  # noqa: E402
    Cache,
    batches_of_rows,
    merged_results,
    mirrored_views,
    pooled_scores,
    published_network_and_clips,
    random_views,
    readings_of,
    rows_of,
)

from lipnet_core.head_features import HEAD_LAYERS  # noqa: E402
from lipnet_core.losses import ctc_loss, padded_labels  # noqa: E402
from lipnet_core.normalise import normalise_clip  # noqa: E402
from lipnet_core.weights import configure_devices  # noqa: E402

NUM_FRAMES = 75
CUT_LAYER = "max_pooling3d_1"  # after the second convolution: (T, 11, 35, 256)
TAIL_LAYERS = ("conv3d_2", "activation_2", "max_pooling3d_2", "time_distributed") + HEAD_LAYERS
CONFIGS = {"head": dict(train_conv=False), "conv": dict(train_conv=True), "conv_slow": dict(train_conv=True)}


def pooled_features(network: keras.Model, mouth_frames: np.ndarray) -> np.ndarray:
    """(2 views, N, 75, 11, 35, 256) float16: the second max-pool's output for each clip and its mirror image."""
    cut = keras.Model(network.inputs, network.get_layer(CUT_LAYER).output)
    views = []
    for view in mirrored_views([normalise_clip(frames) for frames in mouth_frames]):
        views.append(np.concatenate([np.asarray(cut.predict_on_batch(np.stack(view[i : i + 2])), dtype=np.float16)
                                     for i in range(0, len(view), 2)]))
    return np.stack(views)


class TailTrainer:
    """The network from its last convolution on: reset to the published weights, trained with a custom step
    (so the convolution's gradient can be scaled or left out), read."""

    def __init__(self, network: keras.Model):
        self.layers = [network.get_layer(name) for name in TAIL_LAYERS]
        self.tail = keras.Sequential([keras.Input((None, 11, 35, 256))] + self.layers)
        self.published = [layer.get_weights() for layer in self.layers]
        self.conv_variables = self.layers[0].trainable_variables

    def reset(self, seed: int, learning_rate: float, train_conv: bool, conv_scale: float) -> None:
        import tensorflow as tf

        for layer, weights in zip(self.layers, self.published):
            layer.set_weights(weights)
        keras.utils.set_random_seed(seed)
        head_variables = [v for layer in self.layers[4:] for v in layer.trainable_variables]
        variables = (list(self.conv_variables) if train_conv else []) + head_variables
        optimizer = keras.optimizers.Adam(learning_rate)
        optimizer.build(variables)
        conv_count = len(self.conv_variables) if train_conv else 0

        @tf.function(reduce_retracing=True)
        def step(batch, labels):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(ctc_loss(labels, self.tail(batch, training=True)))
            gradients = tape.gradient(loss, variables)
            gradients = [g * conv_scale for g in gradients[:conv_count]] + gradients[conv_count:]
            optimizer.apply(gradients, variables)
            return loss

        self.step = step

    def train(self, features: np.ndarray, labels: np.ndarray, rng, epochs: int, batch_size: int) -> list[float]:
        rows, epoch_losses = np.arange(features.shape[1]), []
        for _ in range(epochs):
            losses = []
            for batch_rows in batches_of_rows(rows, batch_size, rng):
                losses.append(float(self.step(random_views(features, batch_rows, rng), labels[batch_rows])))
            epoch_losses.append(float(np.mean(losses)))
        return epoch_losses

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(self.tail(features[i : i + 2].astype(np.float32), training=False))
                               for i in range(0, len(features), 2)])


def run_config(name, seed, trainer, data, arguments) -> dict:
    features, labels, truths = data["features"], data["labels"], data["sentences"]
    truths_read, greedy, grid, fold_rows = [], [], [], []
    started = time.perf_counter()
    for fold, held_out in enumerate(data["folds"]):
        if arguments.only_folds is not None and fold not in arguments.only_folds:
            continue
        adaptation = [index for index in range(features.shape[1]) if index not in held_out]
        fold_started = time.perf_counter()
        trainer.reset(seed, arguments.learning_rate, CONFIGS[name]["train_conv"],
                      arguments.conv_scale if name == "conv_slow" else 1.0)
        losses = trainer.train(features[:, adaptation], labels[adaptation], np.random.default_rng(seed),
                               arguments.epochs, arguments.batch_size)
        train_seconds = time.perf_counter() - fold_started
        fold_greedy, fold_grid = readings_of(trainer.probabilities(features[0, held_out]))
        fold_truths = [truths[index] for index in held_out]
        truths_read += fold_truths
        greedy += fold_greedy
        grid += fold_grid
        fold_rows.append({"fold": fold, **pooled_scores(fold_truths, fold_greedy, fold_grid),
                          "final_loss": losses[-1], "train_seconds": round(train_seconds, 1)})
        print(f"  {name} seed {seed} fold {fold}: grid WER {fold_rows[-1]['grid_wer']:.1%}, final loss "
              f"{losses[-1]:.2f}, {train_seconds:.0f} s training", flush=True)
    return {"config": name, "seed": seed, **pooled_scores(truths_read, greedy, grid),
            "seconds": round(time.perf_counter() - started, 1), "folds": fold_rows, "epochs": arguments.epochs,
            "learning_rate": arguments.learning_rate, "batch_size": arguments.batch_size,
            "conv_scale": arguments.conv_scale if name == "conv_slow" else 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--speaker", default="s4")
    parser.add_argument("--configs", nargs="+", default=["conv"], choices=list(CONFIGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--conv-scale", type=float, default=0.1)
    parser.add_argument("--cache", default="/tmp/lc")
    parser.add_argument("--only-folds", type=int, nargs="+", help="run these folds only (0-4); the pooled figures "
                        "are then over their clips alone")
    arguments = parser.parse_args()
    cache = Cache(Path(arguments.cache))
    configure_devices()
    network, items, frames, sentences, crop_seconds = published_network_and_clips(
        cache, arguments.data_dir, arguments.speaker)
    started = time.perf_counter()
    features = cache.array(f"{arguments.speaker}_pooled", lambda: pooled_features(network, frames))
    print(f"{len(items)} clips, pooled features {features.shape} {features.nbytes / 2**30:.2f} GiB; crop "
          f"{crop_seconds:.1f} s, features {time.perf_counter() - started:.1f} s (cached after the first run)",
          flush=True)
    data = {"features": features, "labels": padded_labels(sentences), "sentences": sentences,
            "folds": folds_of(len(items), 5)}
    trainer = TailTrainer(network)
    rows = rows_of(arguments.seeds, arguments.configs, lambda name, seed: run_config(name, seed, trainer, data,
                                                                                     arguments))
    results_path = cache.folder / "results.json"
    document = merged_results(results_path, rows, {
        "what": "pooled 5-fold held-out WER of speaker-4 readings (folds_of(30, 5)); the last convolution and the "
                "head (or the head alone) adapted on cached second-pool features; experiments/last_conv_probe.py"})
    results_path.write_text(json.dumps(document, indent=1) + "\n")
    for row in sorted(document["rows"], key=lambda row: (row["config"], row["seed"])):
        print(f"{row['config']:<10}{row['seed']:>5}{row['grid_wer']:>10.1%}{row['greedy_wer']:>10.1%}"
              f"{row['seconds']:>8.0f} s")


if __name__ == "__main__":
    main()
