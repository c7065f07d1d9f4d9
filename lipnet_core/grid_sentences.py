"""The GRID sentence grammar: six words, one from each slot, joined by single spaces (4·4·4·25·10·4 = 64,000).

Kept apart from the grammar decoder (:mod:`lipnet_core.grammar`), which loads Keras, so that pages and reports can
name the slots and check sentences without it.
"""

import random

GRID_GRAMMAR = (
    ("bin", "lay", "place", "set"),  # command
    ("blue", "green", "red", "white"),  # colour
    ("at", "by", "in", "with"),  # preposition
    tuple("abcdefghijklmnopqrstuvxyz"),  # letter (no w)
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),  # digit
    ("again", "now", "please", "soon"),  # adverb
)
GRID_SLOT_NAMES = ("command", "colour", "preposition", "letter", "digit", "adverb")
LETTER_POSITION = GRID_SLOT_NAMES.index("letter")
# A GRID clip id spells its sentence, one character a word (``bbaf2n`` = "bin blue at f two now").
_ID_CODES = (
    {"b": "bin", "l": "lay", "p": "place", "s": "set"},
    {"b": "blue", "g": "green", "r": "red", "w": "white"},
    {"a": "at", "b": "by", "i": "in", "w": "with"},
    {letter: letter for letter in GRID_GRAMMAR[3]},
    {**{str(number): word for number, word in enumerate(GRID_GRAMMAR[4])}, "z": "zero"},
    {"a": "again", "n": "now", "p": "please", "s": "soon"},
)


def is_grid_sentence(text: str) -> bool:
    """True when ``text`` is exactly six GRID words, one per slot, separated by single spaces."""
    words = text.split(" ")
    return len(words) == len(GRID_GRAMMAR) and all(word in slot for word, slot in zip(words, GRID_GRAMMAR))


def random_grid_sentence(seed: int | None = None) -> str:
    """One of GRID's 64,000 sentences, a word drawn from each of the six slots (command … adverb)."""
    chooser = random.Random(seed)
    return " ".join(chooser.choice(slot) for slot in GRID_GRAMMAR)


def sentence_from_id(clip_id: str) -> str | None:
    """The sentence a GRID clip id spells (``bbaf2n`` → "bin blue at f two now"), or None when it spells none."""
    code = str(clip_id).lower()
    if len(code) != len(_ID_CODES) or any(character not in words for character, words in zip(code, _ID_CODES)):
        return None
    return " ".join(words[character] for character, words in zip(code, _ID_CODES))
