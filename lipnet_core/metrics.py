"""Word error rate, character error rate and sentence accuracy (Levenshtein distance over words / characters), and
which words of a reading are right (a longest common subsequence)."""

from collections.abc import Sequence


def edit_distance(reference: Sequence, hypothesis: Sequence) -> int:
    """Minimum number of substitutions, insertions and deletions turning ``hypothesis`` into ``reference``."""
    previous = list(range(len(hypothesis) + 1))
    for row, reference_item in enumerate(reference, start=1):
        current = [row]
        for column, hypothesis_item in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[column] + 1,
                    current[column - 1] + 1,
                    previous[column - 1] + (reference_item != hypothesis_item),
                )
            )
        previous = current
    return previous[-1]


def matched_words(reference: Sequence, hypothesis: Sequence) -> list[bool]:
    """For each reference item, whether a longest common subsequence with ``hypothesis`` keeps it.

    A word read right counts wherever the reading dropped or added words around it: "bin blue at two now" for
    "bin blue at f two now" has the digit right but not the letter, where comparing position by position would
    count every word after the dropped letter as wrong.
    """
    # common[i][j]: length of the longest common subsequence of reference[i:] and hypothesis[j:]
    common = [[0] * (len(hypothesis) + 1) for _ in range(len(reference) + 1)]
    for i in range(len(reference) - 1, -1, -1):
        for j in range(len(hypothesis) - 1, -1, -1):
            if reference[i] == hypothesis[j]:
                common[i][j] = common[i + 1][j + 1] + 1
            else:
                common[i][j] = max(common[i + 1][j], common[i][j + 1])
    matched, i, j = [False] * len(reference), 0, 0
    while i < len(reference) and j < len(hypothesis):
        if reference[i] == hypothesis[j]:
            matched[i] = True
            i, j = i + 1, j + 1
        elif common[i + 1][j] >= common[i][j + 1]:
            i += 1
        else:
            j += 1
    return matched


def word_error_rate(reference: str, hypothesis: str) -> float:
    words = reference.split()
    return edit_distance(words, hypothesis.split()) / max(1, len(words))


def character_error_rate(reference: str, hypothesis: str) -> float:
    return edit_distance(reference, hypothesis) / max(1, len(reference))


def corpus_scores(references: Sequence[str], hypotheses: Sequence[str]) -> dict:
    """Corpus-level WER and CER (total edits / total reference length) and the fraction of exact sentences."""
    if len(references) != len(hypotheses):
        raise ValueError("references and hypotheses differ in length")
    word_edits = sum(edit_distance(r.split(), h.split()) for r, h in zip(references, hypotheses))
    char_edits = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    words = sum(len(r.split()) for r in references)
    characters = sum(len(r) for r in references)
    exact = sum(r.strip() == h.strip() for r, h in zip(references, hypotheses))
    return {
        "wer": word_edits / max(1, words),
        "cer": char_edits / max(1, characters),
        "sentence_accuracy": exact / max(1, len(references)),
        "clips": len(references),
    }


def grid_words_right(truth: str, reading: str) -> list[bool]:
    """For each word of the truth (a GRID sentence: command … adverb), whether the reading has it right, by
    :func:`matched_words`. The one "is this GRID word right" used by evaluation, the pages, training and the card."""
    return matched_words(truth.split(), reading.split())


def slot_accuracy(truths: Sequence[str], readings: Sequence[str]) -> list[float]:
    """Per word position of six-word truths, the share of readings that have that word right."""
    if len(truths) != len(readings) or not truths:
        raise ValueError("slot_accuracy needs as many readings as truths, at least one")
    right = [grid_words_right(truth, reading) for truth, reading in zip(truths, readings)]
    return [sum(row[position] for row in right) / len(right) for position in range(len(right[0]))]
