"""Retrain the network's recurrent head on its frozen convolutions, with a loss term for the GRID letter.

Why a second stage: ``experiments/letter_probe.py`` found that a linear classifier reads the letter (the fourth
GRID word) of a held-out clip from the trained network's convolutional features far more often than the network
itself does, so the letter is lost in the BiLSTMs and the softmax, not in the convolutions. CTC alone gives the
letter's one character little weight against the sentence's other 25 or so; the extra term is ``letter_weight ×
−log`` of the letter character's mean probability over the frames the alignment gives the letter.

Only the two BiLSTMs and the softmax train, so the convolutional features of every training clip (and its mirror
image) are computed once and an epoch on a CPU costs seconds where one of the whole network costs minutes. Each step
takes each clip or its mirror image at random.
The run keeps the epoch with the lowest validation greedy WER (then grid-decoder WER) and writes the whole network,
the given convolutions and that head, as inference weights.
"""

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from lipnet_core.decoding import ctc_decode_batch
from lipnet_core.grammar import grid_grammar_decode
from lipnet_core.grid_sentences import LETTER_POSITION
from lipnet_core.head_features import clip_features, head_of
from lipnet_core.losses import MAX_LABEL_LENGTH, ctc_and_letter_loss, ctc_loss, padded_labels
from lipnet_core.metrics import corpus_scores, slot_accuracy
from lipnet_core.model import build_model
from lipnet_core.normalise import normalise_clip
from lipnet_core.paths import display_path, file_sha256, replace_whole
from lipnet_core.vocabulary import text_to_ids
from lipnet_core.weights import load_weights
from lipnet_training.batches import mirrored_if, word_segments
from lipnet_training.history import HEAD_HISTORY, HEAD_RECIPE, selection_key, write_head_history

HEAD_WEIGHTS = "lipnet.weights.h5"


@dataclass(frozen=True)
class HeadRecipe:
    epochs: int = 50
    learning_rate: float = 1e-4
    batch_size: int = 16
    feature_dropout: float = 0.3  # on the frozen features, before the first BiLSTM
    letter_weight: float = 3.0
    flip: bool = True  # each training step takes a clip's features or its mirror image's, at random
    mixed_precision: bool = True  # for computing the features only; the head trains in float32
    seed: int = 0


def letter_targets(clips) -> np.ndarray:
    """(B, 3) int32: each clip's letter's first frame, end frame (exclusive) and character id, from its word spans."""
    rows = []
    for clip in clips:
        words = clip.sentence.split()
        if len(words) != 6 or len(clip.word_spans) != 6:
            raise ValueError(f"clip {clip.clip_id}: the letter term needs a six-word GRID sentence with word spans")
        start, end = word_segments(clip.word_spans)[LETTER_POSITION]
        rows.append((start, end, text_to_ids(words[LETTER_POSITION])[0]))
    return np.array(rows, dtype=np.int32).reshape(-1, 3)


def head_targets(clips) -> np.ndarray:
    """(B, 48 + 3) int32: the padded CTC label ids, then :func:`letter_targets`, as one array for Keras's loss."""
    return np.concatenate([padded_labels([clip.sentence for clip in clips]), letter_targets(clips)], axis=1)


def clip_view(clips, mirrored: bool):
    """The clips' model inputs, each mirrored left to right or not, one at a time."""
    for clip in clips:
        yield mirrored_if(normalise_clip(clip.mouth_frames), mirrored)


def features_of(weights_path, input_views, mixed_precision: bool) -> list[np.ndarray]:
    """:func:`clip_features` of each iterable of model inputs in ``input_views``, from one network built in the
    precision asked for (the global policy is float32 again afterwards)."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if mixed_precision else "float32")
    try:
        network = build_model(None)
        load_weights(network, weights_path)
        return [clip_features(network, model_inputs) for model_inputs in input_views]
    finally:
        keras.mixed_precision.set_global_policy("float32")


def validation_row(head: keras.Model, features: np.ndarray, clips, targets: np.ndarray) -> dict:
    """The validation figures of one epoch: CTC loss, greedy WER/CER, grid-decoder WER and letter accuracy."""
    probabilities = head.predict(features.astype(np.float32), batch_size=16, verbose=0)
    truths = [clip.sentence for clip in clips]
    greedy = corpus_scores(truths, [decoded.text for decoded in ctc_decode_batch(probabilities)])
    grid_readings = [grid_grammar_decode(clip_probabilities).text for clip_probabilities in probabilities]

    return {
        "val_loss": float(np.mean(ctc_loss(targets[:, :MAX_LABEL_LENGTH], probabilities))),
        "val_wer": greedy["wer"],
        "val_cer": greedy["cer"],
        "val_grid_wer": corpus_scores(truths, grid_readings)["wer"],
        "val_letter_accuracy": slot_accuracy(truths, grid_readings)[LETTER_POSITION],
    }


def retrain_head(pack, split: dict, weights_path, out_dir, recipe: HeadRecipe, log=print) -> dict:
    """Retrain the head of ``weights_path`` on the split's training clips of ``pack``; write the kept epoch's whole
    network, ``head_history.csv`` and ``head_recipe.json`` to ``out_dir``. Returns the kept epoch's history row.

    Not resumable: the whole stage takes minutes (the features most of them).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    train_clips = [pack[clip_id] for clip_id in split["train"] if clip_id in pack]
    validation_clips = [pack[clip_id] for clip_id in split["validation"] if clip_id in pack]
    validation_targets = head_targets(validation_clips)
    started = time.time()
    views = [clip_view(train_clips, False)] + ([clip_view(train_clips, True)] if recipe.flip else [])
    *train_views, validation_features = features_of(
        weights_path, views + [clip_view(validation_clips, False)], recipe.mixed_precision)
    train_features = np.stack(train_views)  # (views, clips, 75, 6375)
    train_targets = head_targets(train_clips)  # (clips, 51): a mirrored clip says the same sentence
    feature_seconds = time.time() - started
    log(f"features of {len(train_clips)} training clips{' (and mirrored)' if recipe.flip else ''} and "
        f"{len(validation_clips)} validation clips in {feature_seconds:.0f} s")

    network = build_model(None)
    load_weights(network, weights_path)
    head = head_of(network, train_features.shape[-1], recipe.feature_dropout)
    head.compile(optimizer=keras.optimizers.Adam(recipe.learning_rate), loss=ctc_and_letter_loss(recipe.letter_weight))
    (out_dir / HEAD_RECIPE).write_text(json.dumps(
        {**asdict(recipe), "start_weights": display_path(Path(weights_path)),
         "start_weights_sha256": file_sha256(Path(weights_path)), "train_clips": len(train_clips),
         "validation_clips": len(validation_clips), "feature_seconds": round(feature_seconds, 1)}, indent=1) + "\n")
    history, kept = [], None
    for epoch in range(1, recipe.epochs + 1):
        started, losses = time.time(), []
        order = rng.permutation(len(train_clips))
        for first in range(0, len(order), recipe.batch_size):
            rows = order[first : first + recipe.batch_size]
            views_taken = rng.integers(0, len(train_features), len(rows))
            batch = train_features[views_taken, rows].astype(np.float32)
            losses.append(float(head.train_on_batch(batch, train_targets[rows])))
        row = {"epoch": epoch, "loss": float(np.mean(losses)),
               **validation_row(head, validation_features, validation_clips, validation_targets),
               "seconds": time.time() - started}
        history.append(row)
        write_head_history(out_dir / HEAD_HISTORY, history)
        better = kept is None or selection_key(row) < selection_key(kept)
        if better:
            kept = row
            replace_whole(out_dir / HEAD_WEIGHTS, network.save_weights)
        log(f"epoch {epoch}: loss {row['loss']:.3f}, val_loss {row['val_loss']:.3f}, validation greedy WER "
            f"{row['val_wer']:.1%}, CER {row['val_cer']:.1%}, grid WER {row['val_grid_wer']:.1%}, letter "
            f"{row['val_letter_accuracy']:.1%}, {row['seconds']:.0f} s{' (kept)' if better else ''}")
    log(f"wrote {out_dir / HEAD_WEIGHTS}: epoch {kept['epoch']} of {recipe.epochs}")
    return kept
