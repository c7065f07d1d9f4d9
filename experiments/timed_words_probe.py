"""Do word terms on speaker 1's timing of each word teach a new face's digit and preposition?

The letter term helped once its frames were speaker 1's median letter (``letter_timing_probe.py``, adopted). The
word terms of ``slot_terms_probe.py`` (CTC of a word inside its own frames) did not help, but their frames came from
forced alignment through the published network, which on speakers 26 and 31 overlaps the corpus's words by almost
nothing. Here each word's frames are speaker 1's median frames for that word (from its 900 corpus alignments),
widened by ``--margin`` frames on each side, scaled to the clip's length. Same 5 folds of speaker 4 as the other
probes (24 clips to adapt on, 6 read, all 30 readings pooled: 180 words, one word is 0.56 points), the head trained
as the product trains it (30 epochs, Adam 1e-3, batch 8, mirror image at random; no clips aside, no refit):

- ``P``: the product's loss (CTC + 3 × the letter term on speaker 1's letter frames);
- ``PW``: P + ``--word-weight`` × the CTC of the preposition and of the digit, each inside its window;
- ``PW6``: P + the same for all six words.

    .venv/bin/python experiments/timed_words_probe.py --data-dir ../shared/grid --seeds 0 1 2

Crops and features are cached under ``--cache`` (shared with the other probes); prints one row per setting.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feature_alignment_probe import (  # noqa: E402  (the same cache, folds, trainer and scores)
    HeadTrainer,
    fold_probe_parser,
    published_speaker_features,
    train_and_read_folds,
)
from letter_timing_probe import speaker1_word_spans  # noqa: E402
from slot_terms_probe import letter_and_word_loss, word_row  # noqa: E402

from lipnet_core.grid_sentences import GRID_SLOT_NAMES  # noqa: E402
from lipnet_core.letter_timing import letter_row  # noqa: E402
from lipnet_core.losses import padded_labels  # noqa: E402

WORDS_OF = {"P": [], "PW": ["preposition", "digit"], "PW6": list(GRID_SLOT_NAMES)}


def word_windows(speaker1_spans: np.ndarray, margin: int, num_frames: int = 75) -> np.ndarray:
    """(6, 2) frames of each GRID word: speaker 1's median, widened by ``margin`` on each side, within the clip."""
    median = np.median(speaker1_spans, axis=0)
    return np.clip(np.round(median + [-margin, margin]), 0, num_frames).astype(np.int32)


def target_rows(sentences: list[str], windows: np.ndarray, words: list[str]) -> np.ndarray:
    """(N, 3 + len(words) × 8) int32: the product's letter row, then each word's
    :func:`slot_terms_probe.word_row`, as ``slot_terms_probe.letter_and_word_loss`` takes them."""
    rows = []
    for sentence in sentences:
        row = list(letter_row(sentence))
        for word in words:
            position = GRID_SLOT_NAMES.index(word)
            row += word_row(tuple(windows[position]), sentence.split()[position])
        rows.append(row)
    return np.array(rows, dtype=np.int32)


def main() -> None:
    parser = fold_probe_parser(__doc__.splitlines()[0], [0, 1, 2])
    parser.add_argument("--settings", nargs="+", default=list(WORDS_OF))
    parser.add_argument("--margin", type=int, default=2, help="frames added on each side of speaker 1's median")
    parser.add_argument("--word-weight", type=float, default=1.0)
    arguments = parser.parse_args()
    cache, network, items, frames, sentences, features = published_speaker_features(arguments)
    windows = word_windows(speaker1_word_spans(arguments.data_dir), arguments.margin)
    print("word windows: " + ", ".join(f"{word} {tuple(window)}" for word, window in zip(GRID_SLOT_NAMES, windows)))
    labels = padded_labels(sentences)
    targets = {name: np.concatenate([labels, target_rows(sentences, windows, WORDS_OF[name])], axis=1)
               for name in arguments.settings}
    trainers = {name: HeadTrainer(network, features.shape[-1],
                                  loss=letter_and_word_loss(arguments.word_weight if WORDS_OF[name] else 0.0,
                                                            len(WORDS_OF[name])))
                for name in arguments.settings}
    train_and_read_folds(trainers, features, targets.get, sentences, arguments.seeds)


if __name__ == "__main__":
    main()
