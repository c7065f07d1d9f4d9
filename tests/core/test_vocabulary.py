import numpy as np
import pytest

from lipnet_core.errors import VocabularyError
from lipnet_core.vocabulary import (
    BLANK_INDEX,
    CHARACTERS,
    NUM_CLASSES,
    VOCABULARY,
    class_labels,
    ids_to_text,
    text_to_ids,
)


def test_layout_matches_the_reference_string_lookup():
    assert len(VOCABULARY) == 40 and VOCABULARY[0] == ""
    assert "".join(VOCABULARY[1:]) == "abcdefghijklmnopqrstuvwxyz'?!123456789 "
    assert BLANK_INDEX == 40 and NUM_CLASSES == 41
    assert text_to_ids("a").tolist() == [1] and text_to_ids(" ").tolist() == [39] and text_to_ids("9").tolist() == [38]


def test_round_trip_of_every_character():
    ids = text_to_ids(CHARACTERS)
    assert ids.dtype == np.int32 and ids.tolist() == list(range(1, 40))
    assert ids_to_text(ids) == CHARACTERS
    assert ids_to_text(text_to_ids("bin blue at f two now")) == "bin blue at f two now"


def test_padding_blank_and_fill_values_are_skipped():
    assert ids_to_text([2, 0, 40, -1, 9, 14]) == "bin"


@pytest.mark.parametrize("text", ["Bin", "bin-blue", "zéro", "0"])
def test_unknown_characters_are_an_error(text):
    with pytest.raises(VocabularyError, match="cannot write"):
        text_to_ids(text)


def test_out_of_range_ids_are_an_error():
    with pytest.raises(VocabularyError):
        ids_to_text([41])


def test_class_labels_name_all_41_outputs():
    labels = class_labels()
    assert len(labels) == 41 and labels[-1] == "blank" and labels[1] == "a" and labels[39] == "␣"
