"""The character vocabulary shared by training, decoding and evaluation.

The reference notebooks used a Keras ``StringLookup`` over the 39 characters below with ``oov_token=""``, which puts
the empty string at index 0. The network has one more output than the lookup has entries: index 40 is the CTC
blank. Labels never contain index 0; we use it as label padding.
"""

import numpy as np

from lipnet_core.errors import VocabularyError

CHARACTERS = "abcdefghijklmnopqrstuvwxyz'?!123456789 "
VOCABULARY = ("",) + tuple(CHARACTERS)  # 40 lookup entries
PAD_INDEX = 0
BLANK_INDEX = len(VOCABULARY)  # 40
NUM_CLASSES = len(VOCABULARY) + 1  # 41 network outputs

_CHAR_TO_ID = {character: index for index, character in enumerate(VOCABULARY) if character}


def text_to_ids(text: str) -> np.ndarray:
    """Encode text as int32 ids in 1..39. Raises VocabularyError on any character outside the vocabulary."""
    unknown = sorted({character for character in text if character not in _CHAR_TO_ID})
    if unknown:
        raise VocabularyError(
            f"Text {text!r} has characters the model cannot write: {''.join(unknown)!r}; "
            f"use only {CHARACTERS!r}."
        )
    return np.array([_CHAR_TO_ID[character] for character in text], dtype=np.int32)


def ids_to_text(ids) -> str:
    """Decode ids back to text. Padding (0), the blank (40) and negative fill values are skipped."""
    characters = []
    for index in np.asarray(ids, dtype=np.int64).ravel():
        if index == BLANK_INDEX or index <= PAD_INDEX:
            continue
        if index > BLANK_INDEX:
            raise VocabularyError(f"Id {index} is outside the {NUM_CLASSES}-class vocabulary.")
        characters.append(VOCABULARY[index])
    return "".join(characters)


def class_labels() -> list[str]:
    """A printable label for each of the 41 outputs (for heat maps): '∅' for padding, '␣' for space, 'blank'."""
    labels = ["∅"] + ["␣" if character == " " else character for character in CHARACTERS]
    return labels + ["blank"]
