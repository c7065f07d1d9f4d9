"""Does averaging weights (along one run, or across runs of several seeds) make the adapted head read a new face better?

Head-only adaptation (``lipnet_core.adaptation``) read speaker 4's held-out clips at 49.4–58.3% GRID-grammar WER with
three seeds of the same recipe (``experiments/feature_alignment_probe.py``, config A): the seed alone moves it by 9
points. Averaging is the usual cure for that variance, and two kinds of it still give one network of the published
architecture (one ``.weights.h5``, read by ``LipReader`` as any other):

- ``swa10`` / ``swa20``: one run, its head weights averaged over the last 10 / 20 of its 30 epochs (stochastic weight
  averaging, Izmailov et al. 2018), at no extra training cost;
- ``soup``: the heads of three runs that differ only in their seed, averaged weight by weight (a "model soup",
  Wortsman et al. 2022: runs fine-tuned from the same weights tend to stay in one basin); ``soup_swa20`` the same
  with each run's ``swa20`` weights. Three times the training.

and one that is not a single network, for comparison: ``ensemble``, the three runs' class probabilities averaged.

Measured as the other probes measure (the same cached features, ``--cache``, the same 5 folds of the 30 clips of
speaker 4, 24 clips to adapt on and 6 to read in each, every held-out reading pooled: 180 words, one word is 0.56
points). Training is config A of the alignment probe (30 epochs, Adam 1e-3, batch 8, mirror image at random, no clips
aside, no refit). Crops and features are computed once into ``--cache``, shared with the alignment probe:

    .venv/bin/python experiments/weight_averaging_probe.py --data-dir ../shared/grid --seeds 0 1 2

Writes ``--cache``/weight_averaging.json.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adaptation_study import folds_of  # noqa: E402
from feature_alignment_probe import (  # noqa: E402  (the same cache, folds, trainer and scores)
    EPOCHS,
    HeadTrainer,
    PooledReadings,
    fold_probe_parser,
    pooled_scores,
    published_speaker_features,
)

from lipnet_core.losses import padded_labels  # noqa: E402

AVERAGED_TAILS = (10, 20)  # swa10, swa20: the last this many epochs


def mean_weights(weight_sets: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Element-wise mean of several lists of arrays of the same shapes (float64 sums, the first list's dtypes)."""
    return [np.mean([np.asarray(weights[index], dtype=np.float64) for weights in weight_sets], axis=0)
            .astype(weight_sets[0][index].dtype) for index in range(len(weight_sets[0]))]


def head_weights(trainer: HeadTrainer) -> list[np.ndarray]:
    return [array.copy() for layer in trainer.head.layers for array in layer.get_weights()]


def set_head_weights(trainer: HeadTrainer, flat: list[np.ndarray]) -> None:
    position = 0
    for layer in trainer.head.layers:
        count = len(layer.get_weights())
        layer.set_weights(flat[position : position + count])
        position += count


def train_with_tails(trainer: HeadTrainer, features, labels, seed: int) -> tuple[list, dict, float]:
    """Config A's training (the alignment probe's HeadTrainer.train, same random stream), keeping running sums of the
    weights over the last epochs. Returns (final weights, {tail: averaged weights}, final loss)."""
    sums = {tail: None for tail in AVERAGED_TAILS}

    def add_to_sums(epoch: int) -> None:
        current = [w.astype(np.float64) for w in head_weights(trainer)]
        for tail in AVERAGED_TAILS:
            if epoch > EPOCHS - tail:
                sums[tail] = current if sums[tail] is None else [s + w for s, w in zip(sums[tail], current)]

    losses = trainer.train(features, labels, np.random.default_rng(seed), after_epoch=add_to_sums)
    final = head_weights(trainer)
    averaged = {tail: [(s / tail).astype(w.dtype) for s, w in zip(sums[tail], final)] for tail in AVERAGED_TAILS}
    return final, averaged, losses[-1]


def probabilities_with(trainer: HeadTrainer, weights: list[np.ndarray], features: np.ndarray) -> np.ndarray:
    set_head_weights(trainer, weights)
    return trainer.probabilities(features)


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0, 1, 2])
    arguments = parser.parse_args()
    cache, network, items, frames, sentences, features = published_speaker_features(arguments)
    labels = padded_labels(sentences)
    trainer = HeadTrainer(network, features.shape[-1])
    folds = folds_of(len(items), 5)

    readings = PooledReadings()
    truths, started = [], time.perf_counter()
    note = readings.note

    for fold, held_out in enumerate(folds):
        adaptation = [index for index in range(features.shape[1]) if index not in held_out]
        held = features[0, held_out]
        truths += [sentences[index] for index in held_out]
        finals, tails, probabilities = [], [], []
        for seed in arguments.seeds:
            trainer.reset(seed)
            final, averaged, loss = train_with_tails(trainer, features[:, adaptation], labels[adaptation], seed)
            finals.append(final)
            tails.append(averaged)
            probabilities.append(probabilities_with(trainer, final, held))
            note(f"final seed {seed}", probabilities[-1])
            for tail in AVERAGED_TAILS:
                note(f"swa{tail} seed {seed}", probabilities_with(trainer, averaged[tail], held))
            print(f"fold {fold} seed {seed}: final loss {loss:.2f}, {time.perf_counter() - started:.0f} s", flush=True)
        note("ensemble", np.mean(probabilities, axis=0))
        note("soup", probabilities_with(trainer, mean_weights(finals), held))
        note("soup_swa20", probabilities_with(trainer, mean_weights([t[20] for t in tails]), held))

    rows = [{"setting": name, **pooled_scores(truths, greedy, grid)} for name, (greedy, grid) in readings.items()]
    for row in rows:
        print(f"{row['setting']:<16}grid WER {row['grid_wer']:6.1%}   greedy WER {row['greedy_wer']:6.1%}")
    document = {"what": "pooled 5-fold held-out WER of speaker-4 readings; see experiments/weight_averaging_probe.py",
                "seeds": arguments.seeds, "epochs": EPOCHS, "averaged_tails": AVERAGED_TAILS,
                "seconds": round(time.perf_counter() - started, 1), "rows": rows}
    (cache.folder / "weight_averaging.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
