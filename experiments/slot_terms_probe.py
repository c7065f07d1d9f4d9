"""Beyond the letter term: do word terms, reading the mirror image too, or a pixel mapping read a new face better?

After adaptation with the letter term (``forced_letter_probe.py``) the GRID-grammar decoder still reads the digit
and the preposition of speaker 4 near chance. Same 5 folds of speaker 4 as the other probes (24 clips to adapt on, 6
read, all 30 readings pooled: 180 words, one word is 0.56 points), the head trained as there (30 epochs, Adam 1e-3,
batch 8, mirror image at random; no clips aside, no refit). Per seed:

- ``L``: CTC + 3 × the letter term on the letter's frames forced by the published network (the product's loss);
- ``LS``: L plus ``--word-weight`` × the CTC of each of ``--words`` (default the preposition and the digit) inside
  its own forced frames (from the space before it to the space after it): each word must be read where the
  published network would read it;
- ``+mirror``: each of them reading every held-out clip and its mirror image, the two outputs averaged (no
  training of its own: the same networks).

``--pixel-map`` instead trains L on crops whose every pixel is mapped onto speaker 1's statistics (per pixel:
``(x − mean_s4) / std_s4 · std_s1 + mean_s1``, speaker 4's over all 30 clips, label-free; speaker 1's over 60 of its
training clips), then normalised as usual: does a speaker-1 "look" help the published convolutions?

    .venv/bin/python experiments/slot_terms_probe.py --data-dir ../shared/grid --seeds 0 1 2
    .venv/bin/python experiments/slot_terms_probe.py --data-dir ../shared/grid --seeds 0 1 2 --pixel-map

Crops and features are cached under ``--cache`` (shared with the other probes); prints one row per setting.
"""

import sys
import time
from pathlib import Path

import numpy as np
from keras import ops

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adaptation_study import folds_of  # noqa: E402
from feature_alignment_probe import (  # noqa: E402  (the same cache, folds, trainer and scores)
    Cache,
    HeadTrainer,
    PooledReadings,
    fold_probe_parser,
    published_network_and_clips,
    speaker_features,
)
from forced_letter_probe import LETTER_WEIGHT, letter_rows  # noqa: E402  (the letter rows as adaptation makes them)

from lipnet_core.forced_alignment import forced_path, word_frames  # noqa: E402
from lipnet_core.grid_sentences import GRID_SLOT_NAMES  # noqa: E402
from lipnet_core.losses import MAX_LABEL_LENGTH, ctc_and_letter_loss, log_probabilities, padded_labels  # noqa: E402
from lipnet_core.vocabulary import BLANK_INDEX, text_to_ids  # noqa: E402
from lipnet_core.weights import configure_devices  # noqa: E402

WORD_LENGTH = 6  # characters, padded; the longest GRID preposition or digit has 5
SPEAKER1_FRAMES = "s1_train60_mouth_frames"  # feature_alignment_probe.py caches these crops (60 training clips)


def word_row(frames: tuple[int, int], word: str) -> list[int]:
    """(first frame, end frame, the word's character ids padded with 0 to WORD_LENGTH): one word's part of a row
    :func:`word_ctc` takes."""
    ids = text_to_ids(word)
    return [*frames, *ids, *[0] * (WORD_LENGTH - len(ids))]


def target_rows(probabilities: np.ndarray, sentences: list[str], word_positions: list[int]) -> np.ndarray:
    """(N, 3 + len(word_positions) × (2 + WORD_LENGTH)) int32: the letter row of the letter term (as adaptation
    makes it), then each word's (first frame, end frame, its character ids padded with 0), frames from the forced path
    of the published network."""
    word_rows = []
    for clip_probabilities, sentence in zip(probabilities, sentences):
        frames, words = word_frames(forced_path(clip_probabilities, text_to_ids(sentence)), sentence), sentence.split()
        word_rows.append([value for position in word_positions
                          for value in word_row(frames[position], words[position])])
    return np.concatenate([letter_rows(probabilities, sentences), np.array(word_rows, np.int32)], axis=1)


def word_ctc(word_rows, class_probabilities):
    """Per-clip CTC of one word inside its frames; ``word_rows`` (B, 2 + WORD_LENGTH) as :func:`target_rows`."""
    num_frames = ops.shape(class_probabilities)[1]
    start, end, ids = word_rows[:, 0], word_rows[:, 1], word_rows[:, 2:]
    frame_index = ops.minimum(start[:, None] + ops.arange(num_frames)[None, :], num_frames - 1)
    window = ops.take_along_axis(class_probabilities, frame_index[:, :, None]
                                 * ops.ones_like(class_probabilities[:, :1, :], dtype="int32"), axis=1)
    lengths = ops.sum(ops.cast(ops.not_equal(ids, 0), "int32"), axis=-1)
    return ops.ctc_loss(ids, log_probabilities(window), lengths, end - start, mask_index=BLANK_INDEX)


def letter_and_word_loss(word_weight: float, word_count: int):
    """The product's loss (CTC + 3 × the letter term) + ``word_weight`` × each word's :func:`word_ctc`, over targets
    (B, 48 + rows of :func:`target_rows`)."""
    product_loss = ctc_and_letter_loss(LETTER_WEIGHT)

    def loss(targets, class_probabilities):
        targets, class_probabilities = ops.cast(targets, "int32"), ops.cast(class_probabilities, "float32")
        total = product_loss(targets[:, : MAX_LABEL_LENGTH + 3], class_probabilities)
        for word in range(word_count if word_weight else 0):
            first = MAX_LABEL_LENGTH + 3 + word * (2 + WORD_LENGTH)
            total = total + word_weight * word_ctc(targets[:, first : first + 2 + WORD_LENGTH], class_probabilities)
        return total

    return loss


def pixel_mapped(frames: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(N, T, H, W) uint8 crops with every pixel's mean and spread over all frames mapped onto ``reference``'s."""
    frames, reference = frames.astype(np.float32), reference.astype(np.float32)
    mean, spread = frames.mean(axis=(0, 1)), frames.std(axis=(0, 1))
    reference_mean, reference_spread = reference.mean(axis=(0, 1)), reference.std(axis=(0, 1))
    mapped = (frames - mean) / np.maximum(spread, 1.0) * reference_spread + reference_mean
    return np.clip(mapped, 0, 255).astype(np.uint8)


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0, 1, 2])
    parser.add_argument("--words", default="preposition,digit", help="the words of LS's word terms")
    parser.add_argument("--word-weight", type=float, default=1.0)
    parser.add_argument("--pixel-map", action="store_true", help="train L on pixel-mapped crops instead")
    arguments = parser.parse_args()
    cache = Cache(Path(arguments.cache))
    configure_devices()
    network, items, frames, sentences, _ = published_network_and_clips(cache, arguments.data_dir, arguments.speaker)
    if arguments.pixel_map:
        speaker1 = cache.array(SPEAKER1_FRAMES, lambda: sys.exit(f"run feature_alignment_probe.py first: it caches "
                                                                  f"{SPEAKER1_FRAMES}"))
        frames = pixel_mapped(frames, speaker1)
    features = speaker_features(cache, f"{arguments.speaker}_pixel_mapped" if arguments.pixel_map
                                else arguments.speaker, network, frames)
    positions = [GRID_SLOT_NAMES.index(name) for name in arguments.words.split(",")]
    labels = padded_labels(sentences)
    published = HeadTrainer(network, features.shape[-1])
    published.reset(0)
    rows = target_rows(published.probabilities(features[0]), sentences, positions)
    settings = {"L": letter_and_word_loss(0.0, len(positions))}
    if not arguments.pixel_map:
        settings["LS"] = letter_and_word_loss(arguments.word_weight, len(positions))
    trainers = {name: HeadTrainer(network, features.shape[-1], loss=loss) for name, loss in settings.items()}
    readings, truths, started = PooledReadings(), [], time.perf_counter()

    for fold, held_out in enumerate(folds_of(len(items), 5)):
        adaptation = [index for index in range(features.shape[1]) if index not in held_out]
        truths += [sentences[index] for index in held_out]
        targets = np.concatenate([labels[adaptation], rows[adaptation]], axis=1)
        for seed in arguments.seeds:
            line = f"fold {fold} seed {seed}"
            for name, trainer in trainers.items():
                trainer.reset(seed)
                losses = trainer.train(features[:, adaptation], targets, np.random.default_rng(seed))
                readings.note_once_and_mirrored(name, seed, trainer, features[:, held_out])
                line += f", {name} loss {losses[-1]:.2f}"
            print(f"{line}; {time.perf_counter() - started:.0f} s", flush=True)

    readings.print_rows(truths)


if __name__ == "__main__":
    main()
