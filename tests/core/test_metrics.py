import pytest

from lipnet_core.metrics import character_error_rate, corpus_scores, edit_distance, matched_words, word_error_rate


def test_edit_distance_known_pairs():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "") == 3 and edit_distance("abc", "abc") == 0


def test_matched_words_follow_the_reading_past_a_dropped_or_added_word():
    reference = "bin blue at f two now".split()
    assert matched_words(reference, reference) == [True] * 6
    assert matched_words(reference, "bin blue at two now".split()) == [True, True, True, False, True, True]
    assert matched_words(reference, "bin blue at s two now".split()) == [True, True, True, False, True, True]
    assert matched_words(reference, "bin blue blue at f two now".split()) == [True] * 6
    assert matched_words(reference, "now two f at blue bin".split()).count(True) == 1
    assert matched_words(reference, []) == [False] * 6 and matched_words([], reference) == []


def test_word_and_character_error_rates():
    reference = "bin blue at f two now"
    assert word_error_rate(reference, reference) == 0
    assert word_error_rate(reference, "bin blue at s two now") == pytest.approx(1 / 6)
    assert word_error_rate(reference, "bin blue at two now") == pytest.approx(1 / 6)
    assert word_error_rate(reference, "") == 1
    assert character_error_rate(reference, "bin blue at s two now") == pytest.approx(1 / 21)
    assert character_error_rate("ab", "abcd") == 1


def test_corpus_scores_pool_edits_over_clips():
    scores = corpus_scores(["bin blue", "set red now"], ["bin blue", "set red"])
    assert scores["wer"] == pytest.approx(1 / 5)
    assert scores["cer"] == pytest.approx(4 / 19)
    assert scores["sentence_accuracy"] == 0.5 and scores["clips"] == 2
    with pytest.raises(ValueError):
        corpus_scores(["a"], [])
