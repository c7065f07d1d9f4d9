"""GRID-grammar decoding on hand-made (T, 41) probability matrices whose answer is known."""

import numpy as np
import pytest
from keras import ops

from lipnet_core.decoding import ctc_decode
from lipnet_core.grammar import MIN_FRAMES, ctc_log_likelihood, grid_grammar_decode, grid_grammar_search
from lipnet_core.grid_sentences import GRID_GRAMMAR, is_grid_sentence
from lipnet_core.vocabulary import BLANK_INDEX, NUM_CLASSES, text_to_ids


def peaked_probabilities(frame_classes, peak=0.9) -> np.ndarray:
    """(T, 41) float32: ``peak`` on each frame's class (or split over {class: weight}), the rest spread evenly."""
    probabilities = np.full((len(frame_classes), NUM_CLASSES), (1.0 - peak) / (NUM_CLASSES - 1), dtype=np.float64)
    for frame, classes in enumerate(frame_classes):
        weights = classes if isinstance(classes, dict) else {classes: peak}
        probabilities[frame, list(weights)] = list(weights.values())
        remaining = 1.0 - sum(weights.values())
        others = [index for index in range(NUM_CLASSES) if index not in weights]
        probabilities[frame, others] = remaining / len(others)
    return probabilities.astype(np.float32)


def clean_frames(text, num_frames=75, character_frames=2, leading_blanks=2):
    """Frame classes for ``text``: each character for ``character_frames`` frames then one blank; blank padding."""
    frames = [BLANK_INDEX] * leading_blanks
    for character in text_to_ids(text):
        frames += [int(character)] * character_frames + [BLANK_INDEX]
    if len(frames) > num_frames:
        raise ValueError(f"{text!r} needs {len(frames)} frames")
    return frames + [BLANK_INDEX] * (num_frames - len(frames))


def log_probs_of(probabilities):
    return np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), 1e-12))


def random_sentences(rng, count):
    return [" ".join(slot[rng.integers(len(slot))] for slot in GRID_GRAMMAR) for _ in range(count)]


def test_grammar_has_64000_sentences_and_recognises_them():
    assert np.prod([len(slot) for slot in GRID_GRAMMAR]) == 64_000
    assert "w" not in GRID_GRAMMAR[3]
    assert is_grid_sentence("bin blue at l six now")
    assert is_grid_sentence("set green by e three soon")
    assert not is_grid_sentence("bin blue at w six now")
    assert not is_grid_sentence("bin blue  at l six now")
    assert not is_grid_sentence("bin blue at l six")
    assert not is_grid_sentence("blue bin at l six now")


def test_clean_matrix_decodes_exactly():
    sentence = "bin blue at f two now"
    probabilities = peaked_probabilities(clean_frames(sentence))
    decoded = grid_grammar_decode(probabilities)
    assert decoded.decoder == "grid"
    assert decoded.text == sentence
    assert decoded.tokens == tuple(int(index) for index in text_to_ids(sentence))
    expected = ctc_log_likelihood(log_probs_of(probabilities), decoded.tokens)
    assert decoded.log_probability == pytest.approx(expected, abs=1e-6)


def test_grammar_recovers_what_greedy_gets_wrong():
    sentence = "bin blue at f two now"
    frames = clean_frames(sentence)
    confusions = {"u": "x", "w": "v"}  # frame by frame: blue → "blxe", two → "tvo", now → "nov"
    for position, character in enumerate(sentence):
        if character in confusions:
            start = 2 + 3 * position
            right, wrong = (int(text_to_ids(c)[0]) for c in (character, confusions[character]))
            frames[start : start + 2] = [{wrong: 0.5, right: 0.4}] * 2
    probabilities = peaked_probabilities(frames)

    greedy = ctc_decode(probabilities, "greedy").text
    assert greedy == "bin blxe at f tvo nov"
    assert not is_grid_sentence(greedy)
    assert grid_grammar_decode(probabilities).text == sentence


def test_repeated_letters_need_a_blank_and_decode_correctly():
    sentence = "set green by e three soon"  # "ee" twice and "oo": each needs a blank between the pair
    probabilities = peaked_probabilities(clean_frames(sentence, character_frames=1))
    decoded = grid_grammar_decode(probabilities)
    assert decoded.text == sentence
    expected = ctc_log_likelihood(log_probs_of(probabilities), decoded.tokens)
    assert decoded.log_probability == pytest.approx(expected, abs=1e-6)

    # No blank frame inside the doubled letters: greedy collapses them, the grammar puts them back.
    merged = [BLANK_INDEX] * 3
    for position, word in enumerate(sentence.split()):
        if position:
            merged += [BLANK_INDEX, int(text_to_ids(" ")[0]), BLANK_INDEX]
        for character in dict.fromkeys(word):  # "green" → g r e n, "soon" → s o n
            merged += [int(text_to_ids(character)[0])] * (4 if word.count(character) > 1 else 2)
    probabilities = peaked_probabilities(merged + [BLANK_INDEX] * (75 - len(merged)))
    assert ctc_decode(probabilities, "greedy").text == "set gren by e thre son"
    assert grid_grammar_decode(probabilities).text == sentence


def test_ctc_log_likelihood_matches_keras_ctc_loss():
    rng = np.random.default_rng(3)
    num_frames = 40
    logits = rng.normal(size=(num_frames, NUM_CLASSES)) * 2.0
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    texts = ["green", "soon", "bin blue at f two now", "a"]
    labels = np.zeros((len(texts), max(len(text) for text in texts)), dtype=np.int32)
    for row, text in enumerate(texts):
        labels[row, : len(text)] = text_to_ids(text)
    keras_loss = ops.convert_to_numpy(
        ops.ctc_loss(
            labels,
            np.repeat(log_probs[np.newaxis], len(texts), axis=0).astype(np.float32),
            np.array([len(text) for text in texts], dtype=np.int32),
            np.full(len(texts), num_frames, dtype=np.int32),
            mask_index=BLANK_INDEX,
        )
    )
    ours = [ctc_log_likelihood(log_probs, text_to_ids(text)) for text in texts]
    np.testing.assert_allclose(ours, -keras_loss, rtol=1e-4, atol=1e-3)


def test_ctc_log_likelihood_small_cases():
    log_probs = np.log(np.full((3, NUM_CLASSES), 1.0 / NUM_CLASSES))
    e = text_to_ids("e")
    assert ctc_log_likelihood(log_probs[:2], np.concatenate([e, e])) == -np.inf  # "ee" needs e, blank, e
    assert ctc_log_likelihood(log_probs, np.concatenate([e, e])) == pytest.approx(3 * np.log(1.0 / NUM_CLASSES))
    # "e" in 1 frame: only the path "e"; in 2 frames: e e, e -, - e
    assert ctc_log_likelihood(log_probs[:1], e) == pytest.approx(np.log(1.0 / NUM_CLASSES))
    assert ctc_log_likelihood(log_probs[:2], e) == pytest.approx(np.log(3.0 / NUM_CLASSES**2))


def test_decoder_finds_the_best_of_all_64000_sentences():
    rng = np.random.default_rng(7)
    frames = [int(index) for index in text_to_ids("lay red with q nine again")]  # one frame per character, no blanks
    frames = [BLANK_INDEX, *frames] + [BLANK_INDEX] * 10  # 36 frames: enough for the longest sentence (33)
    logits = rng.normal(size=(len(frames), NUM_CLASSES)) * 1.5
    logits[np.arange(len(frames)), frames] += 2.0  # a weak signal under heavy noise
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    log_probs = log_probs_of(probabilities)

    decoded = grid_grammar_decode(probabilities)
    assert is_grid_sentence(decoded.text)
    assert decoded.log_probability == pytest.approx(ctc_log_likelihood(log_probs, decoded.tokens), abs=1e-6)
    for sentence in random_sentences(rng, 300):
        assert ctc_log_likelihood(log_probs, text_to_ids(sentence)) <= decoded.log_probability + 1e-9

    everything = grid_grammar_search(probabilities, beam_width=64_000)  # no pruning: every sentence scored
    assert len(everything.sentences) == 64_000
    assert everything.sentences[0] == decoded.text
    for index in rng.integers(0, 64_000, 5):
        expected = ctc_log_likelihood(log_probs, text_to_ids(everything.sentences[index]))
        assert everything.log_probabilities[index] == pytest.approx(expected, abs=1e-6)
    assert grid_grammar_search(probabilities).is_optimal


@pytest.mark.parametrize("num_frames", [0, 1, 10, MIN_FRAMES - 1])
def test_too_short_clip_returns_empty_with_minus_infinity(num_frames):
    probabilities = np.full((num_frames, NUM_CLASSES), 1.0 / NUM_CLASSES, dtype=np.float32)
    decoded = grid_grammar_decode(probabilities)
    assert decoded.text == ""
    assert decoded.tokens == ()
    assert decoded.log_probability == -np.inf


def test_shortest_clip_that_fits_a_sentence():
    sentence = "bin red at a one now"  # 20 characters, no doubled letter: one frame each, no blank anywhere
    assert len(sentence) == MIN_FRAMES
    probabilities = peaked_probabilities([int(index) for index in text_to_ids(sentence)])
    decoded = grid_grammar_decode(probabilities)
    assert decoded.text == sentence
    assert np.isfinite(decoded.log_probability)


def test_rejects_wrong_shape_and_bad_beam_width():
    with pytest.raises(ValueError, match="shape"):
        grid_grammar_decode(np.ones((75, 40)) / 40)
    with pytest.raises(ValueError, match="beam_width"):
        grid_grammar_decode(np.ones((75, NUM_CLASSES)) / NUM_CLASSES, beam_width=0)
