"""Is the letter in what the convolutions see? ``python experiments/letter_probe.py --pack P [--weights W]``.

The network trained end to end rarely reads the GRID letter of a held-out clip (docs/experiments.md). This script
asks where that is lost. It takes each clip's convolutional features (the ``time_distributed`` layer's
output, 6,375 numbers a frame, before any LSTM), averages them over the first, middle and last third of the letter's
aligned frames, and fits a linear ridge classifier of the 25 letters on the training clips (each also mirrored, as
training does) of ``models/split.json``. It prints how many validation letters that classifier gets right, next to
how many the network itself reads right with the GRID-grammar decoder, and how many the same classifier gets right
on the normalised pixels themselves, pooled the same way (what the convolutions add).

The classifier is told where the letter is (the alignment's frames), which the network is not, so the comparison
bounds what the features hold, not what a reader could do unaided. Figures, not a test (docs/experiments.md reports
them). ``--pack`` is a training pack with word spans (built by ``train``, by default ``cache/training_pack.npz``
under its ``--out``).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from lipnet_core.normalise import normalise_clip
from lipnet_training.batches import word_segments
from lipnet_training.pack import load_training_pack

LETTER = 3  # the GRID sentence's fourth word
FEATURE_LAYER = "time_distributed"
PIECES = 3


def pooled_over_segment(per_frame: np.ndarray, segment: tuple[int, int], pieces: int = PIECES) -> np.ndarray:
    """(T, F) → (pieces·F): the mean of each of ``pieces`` consecutive parts of the segment's frames (a segment
    shorter than ``pieces`` frames repeats its frames)."""
    start, end = segment
    frames = per_frame[start:end]
    if len(frames) < pieces:
        frames = frames[np.linspace(0, len(frames) - 1, pieces).round().astype(int)]
    return np.concatenate([part.mean(axis=0) for part in np.array_split(frames, pieces)])


def ridge_classifier(train_features, train_labels, penalty):
    """A linear least-squares classifier onto one-hot targets, solved in its dual form (fewer clips than features).
    Returns a function from features to labels."""
    classes = np.unique(train_labels)
    mean, scale = train_features.mean(axis=0), train_features.std(axis=0) + 1e-6
    standardised = (train_features - mean) / scale
    targets = (train_labels[:, None] == classes[None, :]).astype(np.float64)
    gram = standardised @ standardised.T
    dual = np.linalg.solve(gram + penalty * np.eye(len(gram)), targets - targets.mean(axis=0))
    weights = standardised.T @ dual
    return lambda features: classes[np.argmax(((features - mean) / scale) @ weights, axis=1)]


def pixel_features(clip, mirrored=False) -> np.ndarray:
    model_input = normalise_clip(clip.mouth_frames)[..., 0]
    if mirrored:
        model_input = model_input[:, :, ::-1]
    return pooled_over_segment(model_input.reshape(len(model_input), -1), word_segments(clip.word_spans)[LETTER])


def letter_features(feature_model, compiled_steps, clip, mirrored=False) -> np.ndarray:
    from lipnet_core.model import use_compiled_step_for

    model_input = normalise_clip(clip.mouth_frames)
    if mirrored:
        model_input = model_input[:, :, ::-1]
    batch = model_input[np.newaxis]
    use_compiled_step_for(feature_model, "predict", batch.shape, compiled_steps)
    per_frame = np.asarray(feature_model.predict_on_batch(batch), dtype=np.float32)[0]
    return pooled_over_segment(per_frame, word_segments(clip.word_spans)[LETTER])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", required=True)
    parser.add_argument("--weights", default="models/lipnet.weights.h5")
    parser.add_argument("--split", default="models/split.json")
    parser.add_argument("--penalties", default="100,1000,10000", help="ridge penalties to try, comma-separated")
    parser.add_argument("--mixed-precision", action="store_true", help="compute the features in mixed bfloat16")
    arguments = parser.parse_args()
    import keras

    if arguments.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    from lipnet_core.reader import LipReader

    reader = LipReader(arguments.weights)
    feature_model = keras.Model(reader.model.inputs, reader.model.get_layer(FEATURE_LAYER).output)
    compiled_steps = {}
    split = json.loads(Path(arguments.split).read_text())
    pack = load_training_pack(arguments.pack)
    train, validation = [pack[i] for i in split["train"]], [pack[i] for i in split["validation"]]

    def letter(clip):
        return clip.sentence.split()[LETTER]

    train_letters = np.array([letter(clip) for _ in range(2) for clip in train])
    validation_letters = np.array([letter(clip) for clip in validation])
    features = {
        "the normalised pixels": (
            np.stack([pixel_features(clip, mirrored) for mirrored in (False, True) for clip in train]),
            np.stack([pixel_features(clip) for clip in validation]),
        ),
        "the convolutions' features": (
            np.stack([letter_features(feature_model, compiled_steps, clip, mirrored)
                      for mirrored in (False, True) for clip in train]),
            np.stack([letter_features(feature_model, compiled_steps, clip) for clip in validation]),
        ),
    }

    network_right = 0
    for clip in validation:
        words = reader.decode(reader.probabilities(normalise_clip(clip.mouth_frames)), ("grid",))["grid"].text.split()
        network_right += len(words) == 6 and words[LETTER] == letter(clip)
    print(f"the network (GRID-grammar decoder): {network_right} of {len(validation)} validation letters right")
    for name, (train_features, validation_features) in features.items():
        for penalty in (float(value) for value in arguments.penalties.split(",")):
            classify = ridge_classifier(train_features, train_letters, penalty)
            right = int((classify(validation_features) == validation_letters).sum())
            own = (classify(train_features) == train_letters).mean()
            print(f"ridge on {name}, penalty {penalty:g}: {right} of {len(validation)} validation letters right "
                  f"({own:.0%} of the training clips')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
