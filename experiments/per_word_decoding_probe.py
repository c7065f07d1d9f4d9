"""Would reading each GRID slot's most probable word beat reading the most probable sentence?

The GRID-grammar decoder (`lipnet_core.grammar`) gives the single most probable sentence. The sentence with the
fewest expected wrong words is instead each slot's most probable word, its probability summed over every sentence
of the grammar. Both are computed here from the per-frame probabilities that `adaptation_study.py --probabilities`
keeps (the held-out readings of the product's adapted networks), and scored against the truths.

    python experiments/adaptation_study.py --data-dir ../shared/grid --folds 10 --sizes 27 --probabilities P.npz
    python experiments/per_word_decoding_probe.py P.npz --size 27 [--check]

``--check`` first compares the word probabilities with sums over all 64,000 sentences on a noisy made-up clip.
"""

import argparse

import numpy as np

from lipnet_core.grammar import (
    _FORWARD_PIECES,
    MIN_FRAMES,
    _ending_masses,
    _logsumexp,
    _prefix_scores,
    _PrefixRecurrence,
    grid_grammar_decode,
    grid_grammar_search,
)
from lipnet_core.grid_sentences import GRID_GRAMMAR
from lipnet_core.losses import SMALLEST_PROBABILITY
from lipnet_core.metrics import corpus_scores
from lipnet_core.vocabulary import BLANK_INDEX, NUM_CLASSES, text_to_ids

SLOTS = ("command", "colour", "preposition", "letter", "digit", "adverb")


def grid_word_posteriors(class_probabilities: np.ndarray) -> list[np.ndarray]:
    """P(slot k reads word w | frames) for every slot, summed over every sentence: one forward pass over the slots,
    each slot's words merged once extended (exact: the next character is a space), each word scored with the
    decoder's backward ending masses. Empty arrays when the clip is too short for any sentence."""
    num_frames = class_probabilities.shape[0]
    if num_frames < MIN_FRAMES:
        return [np.zeros(0) for _ in GRID_GRAMMAR]
    log_probs = np.log(np.maximum(np.asarray(class_probabilities, dtype=np.float64), SMALLEST_PROBABILITY))
    recurrence, endings = _PrefixRecurrence(log_probs), _ending_masses(log_probs)
    nonblank, blank = recurrence.empty_prefix()
    posteriors = []
    for slot, (pieces, lengths) in enumerate(_FORWARD_PIECES):
        count = lengths.size
        nonblank, blank = recurrence.extend_by_pieces(
            np.repeat(nonblank, count, axis=1), np.repeat(blank, count, axis=1), pieces, lengths)
        scores = _prefix_scores(nonblank, blank, endings, slot)
        posteriors.append(np.exp(scores - _logsumexp(scores, axis=0)))
        nonblank, blank = _logsumexp(nonblank, axis=1)[:, None], _logsumexp(blank, axis=1)[:, None]
    return posteriors


def per_word_reading(class_probabilities: np.ndarray) -> str:
    posteriors = grid_word_posteriors(class_probabilities)
    if not posteriors[0].size:
        return ""
    return " ".join(slot[int(np.argmax(words))] for slot, words in zip(GRID_GRAMMAR, posteriors))


def check() -> None:
    rng = np.random.default_rng(0)
    frames = [BLANK_INDEX, *(int(index) for index in text_to_ids("set white by u seven soon"))] + [BLANK_INDEX] * 11
    logits = rng.normal(size=(len(frames), NUM_CLASSES)) * 1.5
    logits[np.arange(len(frames)), frames] += 1.5
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    everything = grid_grammar_search(probabilities, beam_width=64_000)
    weights = np.exp(np.array(everything.log_probabilities) - everything.log_probabilities[0])
    weights /= weights.sum()
    rows = [sentence.split() for sentence in everything.sentences]
    worst = max(np.abs(np.array([weights[[row[slot] == word for row in rows]].sum() for word in words])
                       - marginals).max()
                for slot, (words, marginals) in enumerate(zip(GRID_GRAMMAR, grid_word_posteriors(probabilities))))
    print(f"check: word probabilities against sums over all {len(rows)} sentences, largest difference {worst:.1e}; "
          f"most probable sentence {everything.sentences[0]!r}, per word {per_word_reading(probabilities)!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probabilities", help="the .npz written by adaptation_study.py --probabilities")
    parser.add_argument("--size", type=int, required=True, help="the study's number of adaptation clips")
    parser.add_argument("--check", action="store_true")
    arguments = parser.parse_args()
    if arguments.check:
        check()
    kept = np.load(arguments.probabilities)
    truths = [str(truth) for truth in kept[f"{arguments.size}_truths"]]
    for view in ("mirrored", "once"):
        readings = kept[f"{arguments.size}_{view}"].astype(np.float64)
        sentence = [grid_grammar_decode(probabilities).text for probabilities in readings]
        per_word = [per_word_reading(probabilities) for probabilities in readings]
        right = {name: [sum(reading.split()[slot] == truth.split()[slot] for reading, truth in zip(decoded, truths))
                        for slot in range(len(SLOTS))] for name, decoded in (("sentence", sentence),
                                                                                ("per word", per_word))}
        print(f"{view}: most probable sentence {corpus_scores(truths, sentence)['wer']:.1%} WER, each slot's most "
              f"probable word {corpus_scores(truths, per_word)['wer']:.1%}; readings that differ: "
              f"{sum(a != b for a, b in zip(sentence, per_word))} of {len(truths)}")
        confidence = np.mean([[words.max() for words in grid_word_posteriors(probabilities)]
                              for probabilities in readings], axis=0)
        print("  the chosen word's mean probability: " + ", ".join(
            f"{slot} {value:.0%}" for slot, value in zip(SLOTS, confidence)))
        for name, counts in right.items():
            print(f"  words right ({name}): " + ", ".join(f"{slot} {count}" for slot, count in zip(SLOTS, counts)))


if __name__ == "__main__":
    main()
