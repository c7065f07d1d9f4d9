"""Teach the network a new face: fine-tune the published weights on a few clips of one speaker.

The published network was trained on GRID speaker 1 alone and reads almost nothing of a face it never saw. A few
sentences of the new speaker are enough to adapt it: the convolutional features of each clip (and of its mirror
image) are computed once with the published convolutions, and the recurrent head (two BiLSTMs and the softmax) is
trained on them with CTC. A few clips are kept aside to choose the epoch and to say how well the adapted network
reads clips it did not train on. The result is a whole-network ``.weights.h5`` that :class:`~lipnet_core.reader.
LipReader` loads like the published one.
"""

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from lipnet_core.decoding import ctc_decode_batch
from lipnet_core.errors import LipNetError
from lipnet_core.grammar import grid_grammar_decode
from lipnet_core.head_features import clip_features, head_of
from lipnet_core.losses import ctc_loss, padded_labels
from lipnet_core.metrics import corpus_scores
from lipnet_core.model import build_model
from lipnet_core.normalise import normalise_clip
from lipnet_core.paths import DEFAULT_WEIGHTS, display_path, file_sha256, replace_whole
from lipnet_core.preprocessing import prepare_clip
from lipnet_core.weights import configure_devices, load_weights

ADAPTED_WEIGHTS = "lipnet.weights.h5"
ADAPTATION_REPORT = "adaptation.json"
MIN_CLIPS = 3
FEATURE_BATCH = 8  # clips per forward pass of the convolutions


@dataclass(frozen=True)
class AdaptationRecipe:
    """How the head is fine-tuned. ``held_aside`` clips (at most a fifth of them) choose the epoch."""

    epochs: int = 40
    learning_rate: float = 1e-3
    batch_size: int = 8
    held_aside: int = 4
    mirrored: bool = True
    feature_dropout: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class AdaptationClip:
    """One clip of the new speaker, ready for the network. ``name`` is for reports only, never a path."""

    name: str
    sentence: str
    mouth_frames: np.ndarray  # T x 46 x 140, uint8 (a quarter of the normalised input's memory)

    @property
    def model_input(self) -> np.ndarray:
        """T x 46 x 140 x 1 float32, normalised as at inference."""
        return normalise_clip(self.mouth_frames)


def load_adaptation_clips(
    items: list[tuple[str | Path, str, str]], crop: str = "detected", progress: Callable[[float, str], None] | None = None
) -> list[AdaptationClip]:
    """Read and crop each (clip path, sentence, name) of the new speaker. Raises ClipError / FaceNotFoundError,
    naming the clip, for one that cannot be used."""
    clips = []
    for index, (path, sentence, name) in enumerate(items):
        if progress:
            progress(index / len(items), f"finding the mouth in {name}")
        try:
            prepared = prepare_clip(path, crop)
        except LipNetError as error:
            raise type(error)(f"{name}: {error}") from error
        clips.append(AdaptationClip(name, sentence, prepared.mouth_frames))
    return clips


def split_aside(clips: list, held_aside: int, seed: int = 0) -> tuple[list, list]:
    """(training clips, clips kept aside): ``held_aside`` clips drawn with ``seed``, at most a fifth of them."""
    count = min(held_aside, len(clips) // 5)
    order = np.random.default_rng(seed).permutation(len(clips))
    aside = set(order[:count].tolist())
    return [clip for i, clip in enumerate(clips) if i not in aside], [clip for i, clip in enumerate(clips) if i in aside]


def reading_scores(class_probabilities: np.ndarray, sentences: list[str]) -> dict:
    """Greedy and GRID-grammar WER / CER / sentence accuracy of (N, T, 41) probabilities against the sentences."""
    greedy = [decoded.text for decoded in ctc_decode_batch(class_probabilities)]
    grid = [grid_grammar_decode(probabilities).text for probabilities in class_probabilities]
    return {"greedy": corpus_scores(sentences, greedy), "grid": corpus_scores(sentences, grid)}


def adapt(
    clips: list[AdaptationClip],
    out_dir: str | Path,
    recipe: AdaptationRecipe = AdaptationRecipe(),
    base_weights: str | Path = DEFAULT_WEIGHTS,
    progress: Callable[[float, str], None] | None = None,
    described_as: dict | None = None,
) -> dict:
    """Fine-tune ``base_weights`` to the speaker of ``clips``; write ``out_dir/lipnet.weights.h5`` and
    ``out_dir/adaptation.json`` (returned as a dict). ``progress(fraction, message)`` hears of each step.

    Raises:
        LipNetError: fewer than ``MIN_CLIPS`` clips.
    """
    if len(clips) < MIN_CLIPS:
        raise LipNetError(f"Adaptation needs at least {MIN_CLIPS} clips of the new speaker; it got {len(clips)}.")
    report_progress = progress or (lambda fraction, message: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    seconds = {}
    keras.utils.set_random_seed(recipe.seed)
    configure_devices()
    train_clips, aside_clips = split_aside(clips, recipe.held_aside, recipe.seed)

    report_progress(0.0, "computing the convolutional features of each clip")
    network = build_model(None)
    load_weights(network, base_weights)
    num_frames = max(len(clip.model_input) for clip in clips)
    views = [[clip.model_input for clip in train_clips]]
    if recipe.mirrored:
        views.append([clip.model_input[:, :, ::-1] for clip in train_clips])
    train_features = np.stack([clip_features(network, view, num_frames, FEATURE_BATCH) for view in views])  # V x N x T x 6375
    aside_features = (clip_features(network, [clip.model_input for clip in aside_clips], num_frames, FEATURE_BATCH)
                      if aside_clips else None)
    seconds["features"] = time.perf_counter() - started

    head = head_of(network, train_features.shape[-1], recipe.feature_dropout)
    head.compile(optimizer=keras.optimizers.Adam(recipe.learning_rate), loss=ctc_loss)
    train_labels = padded_labels([clip.sentence for clip in train_clips])
    aside_sentences = [clip.sentence for clip in aside_clips]

    def aside_scores() -> dict | None:
        if aside_features is None:
            return None
        return reading_scores(head.predict(aside_features.astype(np.float32), verbose=0), aside_sentences)

    before = aside_scores()
    rng = np.random.default_rng(recipe.seed)
    history, kept, kept_weights = [], None, None
    training_started = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        order, losses = rng.permutation(len(train_clips)), []
        for first in range(0, len(order), recipe.batch_size):
            rows = order[first : first + recipe.batch_size]
            views_taken = rng.integers(0, len(train_features), len(rows))
            batch = train_features[views_taken, rows].astype(np.float32)
            losses.append(float(head.train_on_batch(batch, train_labels[rows])))
        row = {"epoch": epoch, "loss": float(np.mean(losses))}
        scores = aside_scores()
        if scores is not None:
            row.update(aside_grid_wer=scores["grid"]["wer"], aside_greedy_wer=scores["greedy"]["wer"])
        history.append(row)
        key = (row.get("aside_grid_wer", 0.0), row.get("aside_greedy_wer", 0.0))
        if kept is None or key < kept[0] or aside_features is None:  # without clips aside, the last epoch
            kept, kept_weights = (key, epoch), [layer.get_weights() for layer in head.layers]
        report_progress(epoch / recipe.epochs, f"epoch {epoch} of {recipe.epochs}: CTC loss {row['loss']:.2f}"
                        + (f", held-aside grid WER {row['aside_grid_wer']:.0%}" if "aside_grid_wer" in row else ""))
    seconds["training"] = time.perf_counter() - training_started

    for layer, weights in zip(head.layers, kept_weights):
        layer.set_weights(weights)
    replace_whole(out_dir / ADAPTED_WEIGHTS, network.save_weights)
    seconds["total"] = time.perf_counter() - started
    report = {
        **(described_as or {}),
        "clips_trained_on": [clip.name for clip in train_clips],
        "clips_held_aside": [clip.name for clip in aside_clips],
        "recipe": asdict(recipe),
        "base_weights": display_path(base_weights),
        "base_weights_sha256": file_sha256(base_weights),
        "kept_epoch": kept[1],
        "held_aside_before": before,
        "held_aside_after": aside_scores(),
        "history": history,
        "seconds": {stage: round(value, 1) for stage, value in seconds.items()},
    }
    (out_dir / ADAPTATION_REPORT).write_text(json.dumps(report, indent=1) + "\n")
    return report
