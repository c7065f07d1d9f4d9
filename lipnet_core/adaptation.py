"""Teach the network a new face: fine-tune the published weights on a few clips of one speaker.

The published network was trained on GRID speaker 1 alone and reads almost nothing of a face it never saw. A few
sentences of the new speaker teach it some of it: the convolutional features of each clip (and of its mirror image)
are computed once with the published convolutions, so only the recurrent head (two BiLSTMs and the softmax) trains,
with CTC, and an epoch costs about a second on a CPU. A first run keeps a few clips aside to say how well the adapted
network reads sentences it did not train on; then the head trains again on every clip. The result is a
whole-network ``.weights.h5`` that :class:`~lipnet_core.reader.LipReader` loads like the published one; the file is
marked so that the reader reads each clip and its mirror image and averages the two (the head trained on both).

CTC alone hardly teaches the GRID letter (one character of about 26), so the loss adds the letter term that
``retrain-head`` uses for speaker 1, on the frames where speaker 1 says the letter (:mod:`lipnet_core.letter_timing`):
the new speaker has no word timings.
"""

import contextlib
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
from lipnet_core.head_features import fastest_features_of, features_through, head_of
from lipnet_core.letter_timing import letter_row
from lipnet_core.losses import ctc_and_letter_loss, ctc_loss, padded_labels
from lipnet_core.metrics import corpus_scores
from lipnet_core.model import build_model, use_compiled_step_for
from lipnet_core.normalise import normalise_clip
from lipnet_core.paths import DEFAULT_WEIGHTS, display_path, file_sha256, replace_whole
from lipnet_core.preprocessing import prepare_clip
from lipnet_core.quiet import native_stderr_silenced
from lipnet_core.weights import configure_devices, load_weights, mark_read_mirrored

ADAPTED_WEIGHTS = "lipnet.weights.h5"
ADAPTATION_REPORT = "adaptation.json"
MIN_CLIPS = 3
FEATURE_BATCH = 2  # clips per forward pass of the convolutions (8 took 5.7 GB of memory for 30 clips)
FEATURES_SHARE = 0.4  # of the progress bar: the features took 42% of the 30-clip adaptation with 75 epochs on an
# AVX2-only CPU (201 of 480 s; 47% with 50 epochs), 18% with bfloat16 and 50 epochs on an AVX-512 CPU (35 of 195 s)


@dataclass(frozen=True)
class AdaptationRecipe:
    """How the head is fine-tuned. ``held_aside`` clips (at most a fifth of them) say how well the network reads
    sentences it did not train on; a fixed number of epochs measured best in docs/adaptation.md, since choosing the
    epoch on four clips chose noisily and read new clips worse."""

    epochs: int = 75
    learning_rate: float = 1e-3
    batch_size: int = 8
    held_aside: int = 4
    mirrored: bool = True
    read_mirrored: bool = True  # the adapted network reads each clip and its mirror image (marked in its file)
    feature_dropout: float = 0.0
    letter_weight: float = 3.0  # × the letter term beside CTC; 0, or a sentence that is not GRID's: CTC alone
    choose_epoch: bool = False  # keep the epoch that reads the clips aside best, instead of the last one
    refit: bool = True  # then train again on every clip (the ones aside too) for as many epochs
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


def compile_faster_step(
    head: keras.Model, loss, learning_rate: float, batch: np.ndarray, targets: np.ndarray, compiled_steps: dict
) -> bool:
    """Compile ``head``'s training step (Adam) as TensorFlow's graph or with XLA, whichever trains ``batch`` faster
    on this machine, and say whether XLA won.

    Neither wins everywhere (scripts/benchmark_adaptation.py): a step took 0.47 s as a graph and 0.31 s with XLA on
    an AMD EPYC with AVX-512, 0.86 s and 1.13 s on one with AVX2 only. Each is traced once and timed on two steps;
    the steps change the weights and the optimizer's state, so restart the head after (:func:`reset_optimizer`).
    """
    def compile_step(jit_compile: bool) -> None:
        head.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, jit_compile=jit_compile)
        compiled_steps.clear()

    seconds = {}
    for jit_compile in (True, False):  # the graph last: where it wins (the slower machine) it is not traced again
        compile_step(jit_compile)
        use_compiled_step_for(head, "train", batch.shape, compiled_steps)
        head.train_on_batch(batch, targets)  # traces, or compiles with XLA
        steps = []
        for _ in range(2):
            started = time.perf_counter()
            head.train_on_batch(batch, targets)
            steps.append(time.perf_counter() - started)
        seconds[jit_compile] = min(steps)
    with_xla = seconds[True] < seconds[False]
    if with_xla:
        compile_step(True)
    return with_xla


def reset_optimizer(optimizer: keras.optimizers.Optimizer) -> None:
    """Put ``optimizer`` back as a new one starts (no steps, no moments) but keep it, so the training step compiled
    around its variables need not be traced again."""
    for variable in optimizer.variables:
        if variable is not optimizer.learning_rate:
            variable.assign(np.zeros(variable.shape, variable.dtype))


def letter_rows(clips: list) -> np.ndarray | None:
    """(N, 3) int32 rows of the letter term, each clip's letter where speaker 1 says it
    (:func:`lipnet_core.letter_timing.letter_row`); None when a sentence is not a GRID sentence (then CTC alone)."""
    try:
        return np.array([letter_row(clip.sentence, len(clip.mouth_frames)) for clip in clips], dtype=np.int32)
    except ValueError:
        return None


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

    With clips kept aside, a first run trains on the others and reads the clips aside after every epoch (and, with
    ``recipe.choose_epoch``, keeps the epoch that reads them best); with ``recipe.refit`` the head then trains again
    from the published weights, on every clip, for as many epochs.

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
    clips = train_clips + aside_clips  # rows 0..n-1 train, then the clips kept aside
    train_rows, aside_rows = np.arange(len(train_clips)), np.arange(len(train_clips), len(clips))

    report_progress(0.0, "computing the convolutional features of each clip")
    network = build_model(None)
    load_weights(network, base_weights)
    num_frames = max(len(clip.mouth_frames) for clip in clips)
    views = [[clip.model_input for clip in clips]]
    if recipe.mirrored:
        views.append([model_input[:, :, ::-1] for model_input in views[0]])
    passes, done = len(views) * len(clips), FEATURE_BATCH  # the first batch is computed while timed, below

    def features_done(count: int) -> None:
        nonlocal done
        done += count
        report_progress(FEATURES_SHARE * done / passes, f"convolutional features: {done} of {passes} views")

    # the first batch is timed in each precision where bfloat16 may be faster (half the time here); MIN_CLIPS > 2
    feature_model, bfloat16, timed = fastest_features_of(network, views[0][:FEATURE_BATCH], num_frames)
    rest = features_through(feature_model, views[0][FEATURE_BATCH:], num_frames, FEATURE_BATCH, features_done)
    views_features = [
        features_through(feature_model, view, num_frames, FEATURE_BATCH, features_done) for view in views[1:]
    ]
    features = np.stack([np.concatenate([timed, rest]), *views_features])
    labels = padded_labels([clip.sentence for clip in clips])  # features: V x N x T x F
    seconds["features"] = time.perf_counter() - started

    head = head_of(network, features.shape[-1], recipe.feature_dropout)
    base_head = [layer.get_weights() for layer in head.layers]
    compiled_steps = {}
    letter_targets = letter_rows(clips) if recipe.letter_weight > 0 else None
    letter_term = letter_targets is not None
    if letter_term:
        labels = np.concatenate([labels, letter_targets], axis=1)
    loss = ctc_and_letter_loss(recipe.letter_weight) if letter_term else ctc_loss
    rng = np.random.default_rng(recipe.seed)
    refitting = recipe.refit and len(aside_rows) > 0
    total_epochs = recipe.epochs * (2 if refitting else 1)  # for the progress bar: a refit takes at most as long

    def trained(epochs: float) -> float:
        return FEATURES_SHARE + (1 - FEATURES_SHARE) * epochs / total_epochs

    def restart_head() -> None:
        """The published head and a fresh optimizer, keeping the compiled training step."""
        for layer, weights in zip(head.layers, base_head):
            layer.set_weights(weights)
        reset_optimizer(head.optimizer)

    def aside_scores() -> dict | None:
        if len(aside_rows) == 0:
            return None
        probabilities = []
        for view in features[: len(features) if recipe.read_mirrored else 1]:  # read as LipReader will read them
            aside = view[aside_rows].astype(np.float32)
            use_compiled_step_for(head, "predict", aside.shape, compiled_steps)
            probabilities.append(np.asarray(head.predict_on_batch(aside), dtype=np.float32))
        return reading_scores(np.mean(probabilities, axis=0), [clips[row].sentence for row in aside_rows])

    def train_epoch(rows: np.ndarray) -> float:
        """One pass over ``rows`` in full batches (the last one topped up with other rows), so every step has one
        shape and the training step is traced once."""
        batch_size = min(recipe.batch_size, len(rows))
        order, losses = rng.permutation(rows), []
        order = np.concatenate([order, rng.permutation(rows)[: -len(order) % batch_size]])
        for first in range(0, len(order), batch_size):
            batch_rows = order[first : first + batch_size]
            views_taken = rng.integers(0, len(features), len(batch_rows))
            batch = features[views_taken, batch_rows].astype(np.float32)
            new_step = use_compiled_step_for(head, "train", batch.shape, compiled_steps)
            # a second batch size (a refit on more clips than the first run's batch) makes TF 2.21's graph optimiser
            # print "error: 'tfg.While' op ... not compatible" while it traces; the losses are those of a fresh
            # compile, so that one native message is kept off the command line
            with native_stderr_silenced() if new_step else contextlib.nullcontext():
                losses.append(float(head.train_on_batch(batch, labels[batch_rows])))
        return float(np.mean(losses))

    first_rows = train_rows[: min(recipe.batch_size, len(train_rows))]
    with_xla = compile_faster_step(
        head, loss, recipe.learning_rate, features[0, first_rows].astype(np.float32), labels[first_rows], compiled_steps
    )
    restart_head()
    before = aside_scores()
    history, kept, kept_weights, kept_scores = [], None, None, None
    training_started = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        row = {"epoch": epoch, "loss": train_epoch(train_rows)}
        scores = aside_scores()
        if scores is not None:
            row.update(aside_grid_wer=scores["grid"]["wer"], aside_greedy_wer=scores["greedy"]["wer"])
        history.append(row)
        key = (row.get("aside_grid_wer", 0.0), row.get("aside_greedy_wer", 0.0))
        if kept is None or not recipe.choose_epoch or scores is None or key < kept[0]:  # else the last epoch
            kept, kept_weights, kept_scores = (key, epoch), [layer.get_weights() for layer in head.layers], scores
        report_progress(trained(epoch), f"epoch {epoch} of {recipe.epochs}: loss {row['loss']:.2f}"
                        + (f", clips aside: {row['aside_grid_wer']:.0%} of words wrong" if scores else ""))
    kept_epoch = kept[1]
    if refitting:
        restart_head()
        for epoch in range(1, kept_epoch + 1):
            epoch_loss = train_epoch(np.arange(len(clips)))
            report_progress(trained(recipe.epochs + epoch * recipe.epochs / kept_epoch),
                            f"all {len(clips)} clips, epoch {epoch} of {kept_epoch}: loss {epoch_loss:.2f}")
    else:
        for layer, weights in zip(head.layers, kept_weights):
            layer.set_weights(weights)
    seconds["training"] = time.perf_counter() - training_started

    def write_weights(path: Path) -> None:
        network.save_weights(path)
        if recipe.read_mirrored:
            mark_read_mirrored(path)

    replace_whole(out_dir / ADAPTED_WEIGHTS, write_weights)
    seconds["total"] = time.perf_counter() - started
    report = {
        **(described_as or {}),
        "clips_trained_on": [clip.name for clip in (clips if refitting else train_clips)],
        "clips_held_aside": [clip.name for clip in aside_clips],
        "recipe": asdict(recipe),
        "base_weights": display_path(base_weights),
        "base_weights_sha256": file_sha256(base_weights),
        "kept_epoch": kept_epoch,
        "refit_on_every_clip": refitting,
        "letter_term": letter_term,
        "features_in_bfloat16": bfloat16,
        "training_step_with_xla": with_xla,
        "held_aside_before": before,
        "held_aside_after": kept_scores,  # the choosing run's kept epoch: the refit has seen these clips
        "history": history,
        "seconds": {stage: round(value, 1) for stage, value in seconds.items()},
    }
    (out_dir / ADAPTATION_REPORT).write_text(json.dumps(report, indent=1) + "\n")
    return report
