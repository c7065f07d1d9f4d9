"""Why the letter is the hardest GRID word: which letter was read for which, grouped by how the mouth says it.

A letter's name is one short syllable, and many names look alike on the lips: "bee", "pee" and "em" all close the
lips; "eff" and "vee" put the lip to the teeth; "dee", "tee", "zee" and "see" differ inside the mouth, where the
camera cannot see. Lip-readers call such look-alike groups visemes. The groups below are this project's, by the
visible shape of each GRID letter name (GRID has no w); the confusion matrix is ordered by them so that confusions
inside a group sit in blocks along the diagonal.
"""

import pandas as pd

from lipnet_core.grid_sentences import LETTER_POSITION, is_grid_sentence

VISEME_GROUPS = {
    "lips closed (b p m)": "bpm",
    "lip to teeth (f v)": "fv",
    "rounded lips (q u)": "qu",
    "open, 'ay' (a h j k)": "ahjk",
    "spread, 'ee' (c d e g t z)": "cdegtz",
    "'eh' then tongue (l n s x)": "lnsx",
    "'eye' (i y)": "iy",
    "'oh' / 'ar' (o r)": "or",
}
LETTERS_BY_GROUP = tuple(letter for letters in VISEME_GROUPS.values() for letter in letters)
GROUP_OF = {letter: group for group, letters in VISEME_GROUPS.items() for letter in letters}
NO_LETTER = "?"  # the reading has no single-letter word in the letter's place


def letter_pairs(per_clip, decoder: str = "grid") -> list[tuple[str, str]]:
    """(spoken letter, letter read) for each clip whose truth is a GRID sentence; the read letter is the reading's
    fourth word when that is one letter, else ``?``."""
    pairs = []
    for row in per_clip:
        truth, reading = str(row.get("truth", "")), row.get(decoder)
        if not is_grid_sentence(truth) or not isinstance(reading, str):
            continue
        words = reading.split()
        read = words[LETTER_POSITION] if len(words) > LETTER_POSITION else ""
        pairs.append((truth.split()[LETTER_POSITION], read if len(read) == 1 and read.isalpha() else NO_LETTER))
    return pairs


def letter_confusion(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Counts with one row per spoken letter and one column per letter read, both in viseme-group order (``?`` last)."""
    columns = [*LETTERS_BY_GROUP, NO_LETTER]
    table = pd.DataFrame(0, index=pd.Index(LETTERS_BY_GROUP, name="spoken"), columns=pd.Index(columns, name="read"))
    for spoken, read in pairs:
        if spoken in table.index:
            table.loc[spoken, read if read in table.columns else NO_LETTER] += 1
    return table


def confusion_summary(pairs: list[tuple[str, str]]) -> dict[str, float | int]:
    """How many letters were right, and of the wrong ones how many were read as a letter of the same group."""
    wrong = [(spoken, read) for spoken, read in pairs if spoken != read]
    same_group = sum(GROUP_OF.get(spoken) == GROUP_OF.get(read) for spoken, read in wrong)
    return {"letters": len(pairs), "right": len(pairs) - len(wrong), "wrong": len(wrong), "same_group": same_group,
            "share_right": (len(pairs) - len(wrong)) / len(pairs) if pairs else float("nan")}
