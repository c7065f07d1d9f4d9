"""Does aligning a new speaker's convolutional features to speaker 1's help the head adapt?

The published network reads GRID speaker 1 only. Adaptation (``lipnet_core.adaptation``) fine-tunes its recurrent
head on frozen convolutional features (the ``time_distributed`` output, 6375 per frame) of the new speaker's clips.
This probe asks whether cheap feature-space alignment does better than that, measured exactly as
``experiments/adaptation_study.py`` measures it: 5-fold over the 30 clips of speaker 4 (``folds_of(30, 5)``), each
fold's 6 clips read by a head adapted on the 24 clips of the other folds, every held-out reading pooled into one
GRID-grammar WER and one greedy WER (180 words; one word is 0.56 points).

Configurations (each with the published weights put back into the head before each fold):

- ``published``: the published head, no adaptation (a check that the cached features read as the network does).
- ``A``: the head trained as the product trains it, without clips aside and without a refit: 30 epochs, Adam 1e-3,
  batches of 8, each clip taken as itself or its mirror image at random at every step.
- ``B``: no training; per-dimension affine ``x' = a·x + c`` with ``a = std_s1 / std_new`` and
  ``c = mean_s1 − a·mean_new``: speaker-1 statistics over every frame of 60 speaker-1 training clips (fixed GRID
  crop, unmirrored), new-speaker statistics over every frame of the fold's 24 adaptation clips (unmirrored; never
  the held-out clips). Guard: ``std_new`` floored at 1e-6, then ``a`` clipped to [0.1, 10].
- ``B2``: as B with each clip's own statistics (the clip being read included: it is the one being read). Not a
  weight change: it needs the clip's statistics at inference.
- ``C``: B's affine, then A's training on the aligned features (the mirror image gets the same affine).
- ``D``: A with speaker-1 clips mixed in as a regulariser: each batch of 8 is 6 speaker-4 and 2 speaker-1 clips
  (their own sentences); an epoch is one pass over the 24 speaker-4 clips (4 steps, against A's 3).
- ``E``: C with D's mixing (speaker-1 features unaligned: the affine maps speaker 4 onto speaker 1's space).

The affine of B/C folds exactly into the first BiLSTM's input kernels and bias (both directions: kernel' =
diag(a)·kernel, bias' = bias + c·kernel), so an aligned, adapted network is still a standard whole-network
``.weights.h5``; ``--fold-check`` (on with C) checks that numerically on one held-out clip of fold 0.

Crops and features are cached under ``--cache`` as .npy, so a rerun costs only the training. Run (from the project
root, one heavy process at a time on a 2-core CPU):

    .venv/bin/python experiments/feature_alignment_probe.py --data-dir ../shared/grid --configs published A B B2 C D E
    .venv/bin/python experiments/feature_alignment_probe.py --data-dir ../shared/grid --configs C --seeds 1 2

Each run adds its rows (config, seed) to ``--cache``/results.json, replacing rows of the same config and seed.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adaptation_study import folds_of, scores  # noqa: E402  (the same folds and scores as that study)

from lipnet_core.adaptation import load_adaptation_clips  # noqa: E402
from lipnet_core.dataset import list_clips  # noqa: E402
from lipnet_core.decoding import ctc_decode_batch  # noqa: E402
from lipnet_core.grammar import grid_grammar_decode  # noqa: E402
from lipnet_core.grid_sentences import GRID_SLOT_NAMES  # noqa: E402
from lipnet_core.head_features import FEATURE_LAYER, clip_features, head_of  # noqa: E402
from lipnet_core.losses import ctc_loss, padded_labels  # noqa: E402
from lipnet_core.metrics import slot_accuracy  # noqa: E402
from lipnet_core.model import build_model, use_compiled_step_for  # noqa: E402
from lipnet_core.normalise import normalise_clip  # noqa: E402
from lipnet_core.paths import DEFAULT_WEIGHTS  # noqa: E402
from lipnet_core.reader import LipReader  # noqa: E402
from lipnet_core.weights import configure_devices, load_weights  # noqa: E402

NUM_FRAMES = 75
FEATURE_BATCH = 2  # clips per forward pass of the convolutions, as adaptation.py
SPEAKER1_CLIP_COUNT = 60
STD_FLOOR = 1e-6
SCALE_BOUNDS = (0.1, 10.0)
EPOCHS, LEARNING_RATE, BATCH_SIZE = 30, 1e-3, 8
SPEAKER1_PER_BATCH = 2
CONFIGS = {  # name: (align speaker-4 features with the fold's affine, train the head, mix speaker-1 clips in)
    "published": dict(align=None, train=False, mix=False),
    "A": dict(align=None, train=True, mix=False),
    "B": dict(align="fold", train=False, mix=False),
    "B2": dict(align="clip", train=False, mix=False),
    "C": dict(align="fold", train=True, mix=False),
    "D": dict(align=None, train=True, mix=True),
    "E": dict(align="fold", train=True, mix=True),
}


def speaker1_training_ids(split_path: Path, count: int, seed: int = 0) -> list[str]:
    """``count`` ids drawn with ``seed`` from the "train" ids of the published network's split."""
    train_ids = sorted(json.loads(split_path.read_text())["train"])
    return sorted(np.random.default_rng(seed).choice(train_ids, count, replace=False).tolist())


def mirrored_views(model_inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    """[the inputs, their mirror images] (left to right)."""
    return [model_inputs, [model_input[:, :, ::-1] for model_input in model_inputs]]


def frame_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension (mean, std), float64, over every frame of (N, T, F) features."""
    frames = features.reshape(-1, features.shape[-1]).astype(np.float64)
    return frames.mean(axis=0), frames.std(axis=0)


def alignment_affine(reference_stats, new_stats) -> tuple[np.ndarray, np.ndarray]:
    """(scale a, shift c) of x' = a·x + c mapping the new statistics onto the reference ones, float64. std_new is
    floored at STD_FLOOR and a clipped to SCALE_BOUNDS, so a dimension silent in the new speaker is not blown up."""
    (reference_mean, reference_std), (new_mean, new_std) = reference_stats, new_stats
    scale = np.clip(reference_std / np.maximum(new_std, STD_FLOOR), *SCALE_BOUNDS)
    return scale, reference_mean - scale * new_mean


def aligned(features: np.ndarray, affine) -> np.ndarray:
    """float32 a·x + c of features of any leading shape."""
    scale, shift = affine
    return (features.astype(np.float32) * scale.astype(np.float32) + shift.astype(np.float32)).astype(np.float32)


def per_clip_aligned(features: np.ndarray, reference_stats) -> np.ndarray:
    """(N, T, F) features, each clip aligned with its own statistics (B2)."""
    return np.stack([aligned(clip, alignment_affine(reference_stats, frame_statistics(clip[np.newaxis])))
                     for clip in features])


def folded_lstm_weights(kernel: np.ndarray, bias: np.ndarray, affine) -> tuple[np.ndarray, np.ndarray]:
    """LSTM input kernel (F, 4H) and bias (4H,) that read x as the originals read a·x + c:
    (a·x + c)·K + b = x·(diag(a)·K) + (b + c·K)."""
    scale, shift = affine
    kernel64 = kernel.astype(np.float64)
    return (scale[:, np.newaxis] * kernel64).astype(np.float32), (bias + shift @ kernel64).astype(np.float32)


def fold_affine_into(network: keras.Model, affine) -> None:
    """Fold the affine into both directions of the first Bidirectional LSTM of ``network`` (in place)."""
    bidirectional = network.get_layer("bidirectional")
    for direction in (bidirectional.forward_layer, bidirectional.backward_layer):
        cell = direction.cell
        kernel, bias = folded_lstm_weights(np.asarray(cell.kernel), np.asarray(cell.bias), affine)
        cell.kernel.assign(kernel)
        cell.bias.assign(bias)


def readings_of(class_probabilities: np.ndarray) -> tuple[list[str], list[str]]:
    """(greedy, GRID-grammar) readings of (N, T, 41) probabilities."""
    greedy = [decoded.text for decoded in ctc_decode_batch(class_probabilities)]
    return greedy, [grid_grammar_decode(probabilities).text for probabilities in class_probabilities]


class PooledReadings(dict):
    """Setting name → (greedy readings, GRID-grammar readings), pooled over folds in fold order."""

    def note(self, name: str, probabilities: np.ndarray) -> None:
        greedy, grid = readings_of(probabilities)
        pooled = self.setdefault(name, ([], []))
        pooled[0].extend(greedy)
        pooled[1].extend(grid)

    def note_once_and_mirrored(self, setting: str, seed: int, trainer, views: np.ndarray) -> None:
        """``trainer``'s readings of (2 views, N, T, F) held-out features: each clip once, and with its mirror image
        (the two outputs averaged)."""
        as_is, mirrored = (trainer.probabilities(view) for view in views)
        self.note(f"{setting} seed {seed}", as_is)
        self.note(f"{setting}+mirror seed {seed}", (as_is + mirrored) / 2)

    def reader_after(self, epochs, setting: str, seed: int, trainer, views: np.ndarray):
        """An ``after_epoch`` callback for ``trainer.train``: after each of ``epochs`` it notes the readings of
        ``views`` as the setting ``setting@epoch`` (each epoch count a recipe of its own)."""

        def read(epoch: int) -> None:
            if epoch in epochs:
                self.note_once_and_mirrored(f"{setting}@{epoch}", seed, trainer, views)

        return read

    def print_rows(self, truths: list[str]) -> None:
        """One line per setting: pooled GRID-grammar and greedy WER, and the share of each GRID word read right."""
        for name, (greedy, grid) in self.items():
            scores = pooled_scores(truths, greedy, grid)
            shares = zip(GRID_SLOT_NAMES, slot_accuracy(truths, grid))
            right = ", ".join(f"{slot} {share:.0%}" for slot, share in shares)
            print(f"{name:<18}grid WER {scores['grid_wer']:6.1%}   greedy WER {scores['greedy_wer']:6.1%}   "
                  f"right: {right}")


def pooled_scores(truths: list[str], greedy: list[str], grid: list[str]) -> dict:
    return {**scores(truths, greedy, grid), "readings": len(truths)}


def batches_of_rows(rows: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One pass over ``rows`` in full batches, the last one topped up with other rows (as adaptation.py)."""
    order = rng.permutation(rows)
    order = np.concatenate([order, rng.permutation(rows)[: -len(order) % batch_size]])
    return [order[first : first + batch_size] for first in range(0, len(order), batch_size)]


def random_views(features: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """float32 (len(rows), T, F): each row's features or its mirror image's, at random."""
    return features[rng.integers(0, len(features), len(rows)), rows].astype(np.float32)


class Cache:
    """.npy / .json files under one folder, each computed once."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def array(self, name: str, compute) -> np.ndarray:
        path = self.folder / f"{name}.npy"
        if not path.exists():
            np.save(path, compute())
        return np.load(path)

    def document(self, name: str, compute) -> dict:
        path = self.folder / f"{name}.json"
        if not path.exists():
            path.write_text(json.dumps(compute(), indent=1) + "\n")
        return json.loads(path.read_text())


def speaker_clips(cache: Cache, name: str, items: list, crop: str) -> tuple[np.ndarray, list[str], float]:
    """(mouth frames (N, 75, 46, 140) uint8, sentences, seconds) of (path, sentence, id) items, cropped once."""
    started = time.perf_counter()

    def crop_all() -> np.ndarray:
        clips = load_adaptation_clips(items, crop=crop)
        return np.stack([np.pad(c.mouth_frames[:NUM_FRAMES], [(0, NUM_FRAMES - len(c.mouth_frames[:NUM_FRAMES])),
                                                              (0, 0), (0, 0)], mode="edge") for c in clips])

    frames = cache.array(f"{name}_mouth_frames", crop_all)
    return frames, [sentence for _, sentence, _ in items], time.perf_counter() - started


def speaker_features(cache: Cache, name: str, network: keras.Model, mouth_frames: np.ndarray) -> np.ndarray:
    """(2 views, N, 75, 6375) float16 features of the clips and their mirror images, computed once."""
    def compute() -> np.ndarray:
        inputs = [normalise_clip(frames) for frames in mouth_frames]
        return np.stack([clip_features(network, view, NUM_FRAMES, FEATURE_BATCH) for view in mirrored_views(inputs)])

    return cache.array(f"{name}_features", compute)


def published_network_and_clips(cache: Cache, data_dir: str, speaker: str) -> tuple:
    """(the published network, the speaker's (path, sentence, id) items, their detected mouth frames, sentences, the
    crop's seconds): what every probe of a speaker's folds starts from."""
    network = build_model(None)
    load_weights(network, DEFAULT_WEIGHTS)
    items = [(c.video_path, c.sentence(), c.clip_id) for c in list_clips(data_dir, speaker)]
    frames, sentences, crop_seconds = speaker_clips(cache, speaker, items, "detected")
    return network, items, frames, sentences, crop_seconds


def published_speaker_features(arguments) -> tuple:
    """(cache, the published network, ``--speaker``'s (path, sentence, id) items, their detected mouth frames,
    sentences, features of both views): the start of every probe that trains the head on a speaker's cached features,
    from :func:`fold_probe_parser`'s arguments."""
    cache = Cache(Path(arguments.cache))
    configure_devices()
    network, items, frames, sentences, _ = published_network_and_clips(cache, arguments.data_dir, arguments.speaker)
    return cache, network, items, frames, sentences, speaker_features(cache, arguments.speaker, network, frames)


def fold_probe_parser(description: str, default_seeds: list[int]) -> argparse.ArgumentParser:
    """The options every probe of a speaker's folds takes: --data-dir, --speaker, --seeds, --cache."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--speaker", default="s4")
    parser.add_argument("--seeds", type=int, nargs="+", default=default_seeds)
    parser.add_argument("--cache", default="/tmp/fa")
    return parser


def rows_of(seeds: list[int], configs: list[str], run) -> list[dict]:
    """``run(name, seed)`` for every seed and configuration, each row printed as it comes."""
    rows = []
    for seed in seeds:
        for name in configs:
            row = run(name, seed)
            rows.append(row)
            print(f"{name} seed {seed}: grid WER {row['grid_wer']:.1%}, greedy WER {row['greedy_wer']:.1%}, "
                  f"{row['seconds']:.0f} s", flush=True)
    return rows


def train_and_read_folds(trainers: dict, features: np.ndarray, targets_of, sentences: list[str], seeds: list[int],
                         train_options: dict | None = None, after_reading=None, read_after: tuple = ()) -> None:
    """The fold loop of the probes that compare head trainings: for each of the 5 folds and each seed, every trainer
    (setting name → trainer) is reset, trained on the fold's adaptation clips with ``targets_of(name)``'s rows, and
    reads the held-out clips once and with the mirror image; one line per fold and seed, then one row per setting.
    ``after_reading(name, trainer, fold, held_out)``, if given, returns text added to the line. ``read_after``: the
    same training also reads them after each of these epochs (setting ``name@epoch``): each a recipe of its own."""
    readings, truths, started = PooledReadings(), [], time.perf_counter()
    for fold, held_out in enumerate(folds_of(features.shape[1], 5)):
        adaptation = [index for index in range(features.shape[1]) if index not in held_out]
        truths += [sentences[index] for index in held_out]
        for seed in seeds:
            line = f"fold {fold} seed {seed}"
            for name, trainer in trainers.items():
                trained_from = time.perf_counter()
                trainer.reset(seed)
                options = dict(train_options or {})
                if read_after:
                    held_out_views = features[:, held_out]
                    options["after_epoch"] = readings.reader_after(read_after, name, seed, trainer, held_out_views)
                losses = trainer.train(features[:, adaptation], targets_of(name)[adaptation],
                                       np.random.default_rng(seed), **options)
                readings.note_once_and_mirrored(name, seed, trainer, features[:, held_out])
                line += f", {name} loss {losses[-1]:.2f} ({time.perf_counter() - trained_from:.0f} s)"
                line += after_reading(name, trainer, fold, held_out) if after_reading else ""
            print(f"{line}; {time.perf_counter() - started:.0f} s", flush=True)
    readings.print_rows(truths)


class HeadTrainer:
    """The network's head on cached features: reset to the published weights, trained (with ``loss``: CTC, or
    another Keras loss of the head's probabilities and ``labels`` rows), read."""

    def __init__(self, network: keras.Model, feature_size: int, loss=ctc_loss):
        self.network = network
        self.loss = loss
        self.head = head_of(network, feature_size)
        self.published = [layer.get_weights() for layer in self.head.layers]
        self.compiled_steps = {}

    def reset(self, seed: int) -> None:
        for layer, weights in zip(self.head.layers, self.published):
            layer.set_weights(weights)
        keras.utils.set_random_seed(seed)
        self.head.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=self.loss)
        self.compiled_steps.clear()

    def step(self, batch: np.ndarray, labels: np.ndarray) -> float:
        use_compiled_step_for(self.head, "train", batch.shape, self.compiled_steps)
        return float(self.head.train_on_batch(batch, labels))

    def train(self, features, labels, rng, speaker1_features=None, speaker1_labels=None,
              after_epoch=None, epochs: int = EPOCHS) -> list[float]:
        """``epochs`` passes over (V, N, T, F) features; with speaker-1 features, each batch of BATCH_SIZE holds
        SPEAKER1_PER_BATCH of them (drawn without replacement, pass after pass). ``after_epoch(epoch)``, if given,
        is called after each (1-based). Returns each epoch's mean loss."""
        rows = np.arange(features.shape[1])
        mixing = speaker1_features is not None
        own_per_batch = BATCH_SIZE - (SPEAKER1_PER_BATCH if mixing else 0)
        speaker1_queue = []
        epoch_losses = []
        for epoch in range(1, epochs + 1):
            losses = []
            for batch_rows in batches_of_rows(rows, own_per_batch, rng):
                batch, batch_labels = random_views(features, batch_rows, rng), labels[batch_rows]
                if mixing:
                    while len(speaker1_queue) < SPEAKER1_PER_BATCH:
                        speaker1_queue += rng.permutation(speaker1_features.shape[1]).tolist()
                    extra = np.array(speaker1_queue[:SPEAKER1_PER_BATCH])
                    del speaker1_queue[:SPEAKER1_PER_BATCH]
                    batch = np.concatenate([batch, random_views(speaker1_features, extra, rng)])
                    batch_labels = np.concatenate([batch_labels, speaker1_labels[extra]])
                losses.append(self.step(batch, batch_labels))
            epoch_losses.append(float(np.mean(losses)))
            if after_epoch is not None:
                after_epoch(epoch)
        return epoch_losses

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(N, T, 41) float32 of (N, T, F) features."""
        batch = features.astype(np.float32)
        use_compiled_step_for(self.head, "predict", batch.shape, self.compiled_steps)
        return np.asarray(self.head.predict_on_batch(batch), dtype=np.float32)


def fold_check(network: keras.Model, trainer: HeadTrainer, model_input: np.ndarray, affine, out_path: Path) -> dict:
    """Max |difference| between (1) the trained network's head fed the aligned float32 features of one clip and
    (2) a whole network with the affine folded into its first BiLSTM, saved as .weights.h5 and read by LipReader."""
    feature_model = keras.Model(network.inputs, network.get_layer(FEATURE_LAYER).output)
    features = np.asarray(feature_model.predict_on_batch(model_input[np.newaxis]), dtype=np.float32)
    fed_aligned = trainer.probabilities(aligned(features, affine))[0]
    fed_raw = trainer.probabilities(features)[0]
    folded = build_model(None)
    folded.set_weights(network.get_weights())
    fold_affine_into(folded, affine)
    folded.save_weights(out_path)
    read_folded = LipReader(out_path).probabilities(model_input)
    return {"max_abs_difference_folded_vs_aligned": float(np.abs(read_folded - fed_aligned).max()),
            "max_abs_difference_unfolded_vs_aligned": float(np.abs(fed_raw - fed_aligned).max()),
            "same_grid_reading": readings_of(read_folded[np.newaxis])[1] == readings_of(fed_aligned[np.newaxis])[1],
            "weights_file": str(out_path)}


def run_config(name: str, seed: int, trainer: HeadTrainer, data: dict, fold_check_input=None, cache=None) -> dict:
    """Pooled held-out scores of one configuration over the 5 folds."""
    settings = CONFIGS[name]
    features, labels, truths = data["s4_features"], data["s4_labels"], data["s4_sentences"]
    started = time.perf_counter()
    held_truths, greedy, grid, fold_rows, check = [], [], [], [], None
    for fold, held_out in enumerate(data["folds"]):
        adaptation = [index for index in range(features.shape[1]) if index not in held_out]
        fold_features, affine = features, None
        if settings["align"] == "fold":
            affine = alignment_affine(data["s1_stats"], frame_statistics(features[0, adaptation]))
            fold_features = aligned(features, affine)
        elif settings["align"] == "clip":
            fold_features = per_clip_aligned(features[0], data["s1_stats"])[np.newaxis]
        trainer.reset(seed)
        losses = []
        if settings["train"]:
            rng = np.random.default_rng(seed)
            mixing = (data["s1_features"], data["s1_labels"]) if settings["mix"] else (None, None)
            losses = trainer.train(fold_features[:, adaptation], labels[adaptation], rng, *mixing)
        fold_greedy, fold_grid = readings_of(trainer.probabilities(fold_features[0, held_out]))
        held_truths += [truths[index] for index in held_out]
        greedy += fold_greedy
        grid += fold_grid
        fold_rows.append({"fold": fold, **pooled_scores([truths[index] for index in held_out], fold_greedy, fold_grid),
                          "final_loss": losses[-1] if losses else None})
        if fold == 0 and affine is not None and fold_check_input is not None and settings["train"] and check is None:
            check = fold_check(trainer.network, trainer, fold_check_input(held_out[0]), affine,
                               cache.folder / f"folded_{name}_fold0_seed{seed}.weights.h5")
            print(f"  fold check ({name}, fold 0, clip {held_out[0]}): {check}", flush=True)
        print(f"  {name} seed {seed} fold {fold}: grid WER {fold_rows[-1]['grid_wer']:.1%}"
              + (f", final loss {losses[-1]:.2f}" if losses else ""), flush=True)
    row = {"config": name, "seed": seed, **pooled_scores(held_truths, greedy, grid),
           "seconds": round(time.perf_counter() - started, 1), "folds": fold_rows, **settings}
    if check is not None:
        row["fold_check"] = check
    return row


def scale_diagnostics(data: dict) -> dict:
    """How often the guard acts: the share of dimensions whose scale hit a bound, over the 5 folds' affines."""
    hits_low, hits_high = [], []
    for held_out in data["folds"]:
        adaptation = [index for index in range(data["s4_features"].shape[1]) if index not in held_out]
        scale, _ = alignment_affine(data["s1_stats"], frame_statistics(data["s4_features"][0, adaptation]))
        hits_low.append(float(np.mean(scale <= SCALE_BOUNDS[0])))
        hits_high.append(float(np.mean(scale >= SCALE_BOUNDS[1])))
    silent_s1 = float(np.mean(data["s1_stats"][1] == 0))
    return {"share_scale_at_low_bound": hits_low, "share_scale_at_high_bound": hits_high,
            "share_dims_silent_in_speaker1": silent_s1}


def merged_results(path: Path, new_rows: list[dict], extra: dict) -> dict:
    """results.json with ``new_rows`` replacing rows of the same (config, seed)."""
    document = json.loads(path.read_text()) if path.exists() else {"rows": []}
    keys = {(row["config"], row["seed"]) for row in new_rows}
    document["rows"] = [row for row in document["rows"] if (row["config"], row["seed"]) not in keys] + new_rows
    document.update(extra)
    return document


def table_of(rows: list[dict]) -> str:
    lines = [f"{'config':<10}{'seed':>5}{'grid WER':>10}{'greedy WER':>12}{'seconds':>9}"]
    for row in sorted(rows, key=lambda row: (list(CONFIGS).index(row["config"]), row["seed"])):
        lines.append(f"{row['config']:<10}{row['seed']:>5}{row['grid_wer']:>10.1%}{row['greedy_wer']:>12.1%}"
                     f"{row['seconds']:>9.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--no-fold-check", action="store_true")
    arguments = parser.parse_args()
    cache = Cache(Path(arguments.cache))
    configure_devices()
    stage_seconds = {}

    started = time.perf_counter()
    network, s4_items, s4_frames, s4_sentences, stage_seconds["s4_crop"] = published_network_and_clips(
        cache, arguments.data_dir, arguments.speaker)
    stage = time.perf_counter()
    s4_features = speaker_features(cache, arguments.speaker, network, s4_frames)
    stage_seconds["s4_features"] = time.perf_counter() - stage

    stage = time.perf_counter()
    s1_ids = set(speaker1_training_ids(DEFAULT_WEIGHTS.parent / "split.json", SPEAKER1_CLIP_COUNT))
    s1_items = [(c.video_path, c.sentence(), c.clip_id) for c in list_clips(arguments.data_dir, "s1")
                if c.clip_id in s1_ids]
    s1_frames, s1_sentences, _ = speaker_clips(cache, "s1_train60", s1_items, "grid")
    stage_seconds["s1_crop"] = time.perf_counter() - stage
    stage = time.perf_counter()
    s1_features = speaker_features(cache, "s1_train60", network, s1_frames)
    stage_seconds["s1_features"] = time.perf_counter() - stage
    stage = time.perf_counter()
    data = {
        "s4_features": s4_features, "s4_sentences": s4_sentences, "s4_labels": padded_labels(s4_sentences),
        "s1_features": s1_features, "s1_labels": padded_labels(s1_sentences),
        "s1_stats": frame_statistics(s1_features[0]), "folds": folds_of(len(s4_items), 5),
    }
    stage_seconds["statistics"] = time.perf_counter() - stage
    stage_seconds["setup_total"] = time.perf_counter() - started
    print(f"{len(s4_items)} clips of {arguments.speaker} {s4_features.shape}, {len(s1_items)} clips of s1 "
          f"{s1_features.shape}; seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in stage_seconds.items()), flush=True)
    diagnostics = scale_diagnostics(data)
    print(f"guard: {diagnostics}", flush=True)

    trainer = HeadTrainer(network, s4_features.shape[-1])
    fold_check_input = None if arguments.no_fold_check else (lambda index: normalise_clip(s4_frames[index]))
    rows = rows_of(arguments.seeds, arguments.configs,
                   lambda name, seed: run_config(name, seed, trainer, data, fold_check_input, cache))
    results_path = cache.folder / "results.json"
    document = merged_results(results_path, rows, {
        "what": "pooled 5-fold held-out WER of speaker-4 readings (folds_of(30, 5)), head adapted on cached "
                "convolutional features; see experiments/feature_alignment_probe.py",
        "recipe": {"epochs": EPOCHS, "learning_rate": LEARNING_RATE, "batch_size": BATCH_SIZE,
                   "speaker1_per_batch_when_mixing": SPEAKER1_PER_BATCH, "speaker1_clips": SPEAKER1_CLIP_COUNT,
                   "std_floor": STD_FLOOR, "scale_bounds": SCALE_BOUNDS},
        "speaker1_clip_ids": sorted(s1_ids), "guard_diagnostics": diagnostics,
        f"setup_seconds_{'_'.join(arguments.configs)}_{'_'.join(map(str, arguments.seeds))}":
            {k: round(v, 1) for k, v in stage_seconds.items()},
    })
    results_path.write_text(json.dumps(document, indent=1) + "\n")
    print(table_of(document["rows"]))


if __name__ == "__main__":
    main()
