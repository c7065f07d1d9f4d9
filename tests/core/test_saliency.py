"""Saliency: the words of the best path and their frames, the gradient of a word's probability w.r.t. the input,
and the pictures drawn from it."""

import io

import imageio.v3 as iio
import numpy as np
import pytest

from lipnet_core.demo.explain import best_path
from lipnet_core.demo.rendering import (
    GIF_SCALE,
    STRIP_GAP,
    STRIP_LABEL_HEIGHT,
    saliency_gif,
    saliency_overlay,
    saliency_strip,
    strip_frame_indices,
    to_display_range,
)
from lipnet_core.errors import ClipError
from lipnet_core.saliency import class_weights, saliency_maps, sentence_span, word_spans
from lipnet_core.vocabulary import BLANK_INDEX, NUM_CLASSES, VOCABULARY

HEIGHT, WIDTH = 46, 140


def probabilities_for(path: str) -> np.ndarray:
    """(T, 41) probabilities whose best class per frame spells ``path`` ('-' the blank, '_' a space)."""
    indices = [BLANK_INDEX if symbol == "-" else VOCABULARY.index(" " if symbol == "_" else symbol) for symbol in path]
    probabilities = np.full((len(path), NUM_CLASSES), 0.4 / (NUM_CLASSES - 1), dtype=np.float32)
    probabilities[np.arange(len(path)), indices] = 0.6
    return probabilities


def test_word_spans_split_on_spaces_and_keep_blanks_inside_a_word():
    #        0123456789012345678
    path = "-bb-in__--b-l-uee-_"
    spans = word_spans(probabilities_for(path))
    assert [span.text for span in spans] == ["bin", "blue"] == best_path(probabilities_for(path)).text.split()
    bin_, blue = spans
    assert (bin_.first_frame, bin_.last_frame, bin_.character_frames) == (1, 5, (1, 2, 4, 5))
    assert bin_.frames == (1, 2, 3, 4, 5)
    assert bin_.log_probability == pytest.approx(5 * np.log(0.6))  # its stretch of the path, blank included
    assert bin_.classes == tuple(VOCABULARY.index(symbol) if symbol != "-" else BLANK_INDEX for symbol in "bb-in")
    assert (blue.first_frame, blue.last_frame, blue.character_frames) == (10, 16, (10, 12, 14, 15, 16))


def test_word_spans_follow_ctc_merging_and_a_word_at_the_very_end():
    spans = word_spans(probabilities_for("a-a__seeven"))  # a blank between repeats keeps both; a run is one letter
    assert [(span.text, span.first_frame, span.last_frame) for span in spans] == [("aa", 0, 2), ("seven", 5, 10)]


def test_no_word_when_the_best_path_is_only_blanks_and_spaces():
    assert word_spans(probabilities_for("--__--_-")) == []
    assert word_spans(np.zeros((0, NUM_CLASSES), np.float32)) == []
    with pytest.raises(ValueError, match="41"):
        word_spans(np.zeros((5, 40), np.float32))


def test_sentence_span_is_the_whole_best_path():
    probabilities = probabilities_for("-bb-in__l-ay")
    sentence = sentence_span(probabilities)
    assert sentence.text == "bin lay"
    assert sentence.frames == tuple(range(12))
    assert sentence.classes == tuple(probabilities.argmax(axis=-1))
    assert sentence.character_frames == (1, 2, 4, 5, 8, 10, 11)
    assert sentence.log_probability == pytest.approx(12 * np.log(0.6))


def test_class_weights_mark_each_chosen_frame_and_class():
    weights = class_weights(4, [0, 2, 2], [5, 7, 7])
    assert weights.shape == (4, NUM_CLASSES) and weights.dtype == np.float32
    assert weights[0, 5] == 1 and weights[2, 7] == 2 and weights.sum() == 3
    for frames, classes in (([0, 1], [5]), ([4], [5]), ([0], [41]), ([], [])):
        with pytest.raises(ValueError):
            class_weights(4, frames, classes)


def tiny_model(split_softmax: bool = False, seed: int = 0):
    """Conv3D(2, 3×3×3) → per-frame Dense(41): a frame's output sees only its neighbours, one frame either side."""
    import keras

    keras.utils.set_random_seed(seed)
    layers = [keras.Input((None, HEIGHT, WIDTH, 1)), keras.layers.Conv3D(2, 3, padding="same"),
              keras.layers.TimeDistributed(keras.layers.Flatten())]
    if split_softmax:
        layers += [keras.layers.Dense(NUM_CLASSES), keras.layers.Activation("softmax")]
    else:
        layers += [keras.layers.Dense(NUM_CLASSES, activation="softmax")]
    return keras.Sequential(layers)


def clip_input(num_frames: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(num_frames, HEIGHT, WIDTH, 1)).astype(np.float32)


def chosen_log_probability(model, model_input, frames, classes) -> float:
    probabilities = np.asarray(model(model_input[np.newaxis], training=False), dtype=np.float64)[0]
    return float(np.log(probabilities[frames, classes]).sum())


def test_saliency_is_the_gradient_of_the_chosen_log_probabilities_at_the_chosen_frames():
    model, model_input = tiny_model(), clip_input(10)
    saliency = saliency_maps(model, model_input, [5, 5], [3, 40])
    assert saliency.shape == (10, HEIGHT, WIDTH) and saliency.dtype == np.float32
    assert np.isfinite(saliency).all() and saliency.min() >= 0 and saliency.max() > 0
    moved = saliency.sum(axis=(1, 2))
    assert (moved[4:7] > 0).all() and (moved[:4] == 0).all() and (moved[7:] == 0).all()  # only frame 5's neighbours

    frame, row, column = np.unravel_index(saliency.argmax(), saliency.shape)
    step = 1e-2
    nudged = model_input.copy()
    nudged[frame, row, column, 0] += step
    before = chosen_log_probability(model, model_input, [5, 5], [3, 40])
    after = chosen_log_probability(model, nudged, [5, 5], [3, 40])
    assert abs(after - before) / step == pytest.approx(saliency[frame, row, column], rel=0.05)


def test_softmax_inside_dense_or_as_its_own_layer_give_the_same_map():
    fused, split = tiny_model(), tiny_model(split_softmax=True)
    split.set_weights(fused.get_weights())
    model_input = clip_input(6, seed=1)
    np.testing.assert_allclose(saliency_maps(fused, model_input, [1, 2], [0, 9]),
                               saliency_maps(split, model_input, [1, 2], [0, 9]), rtol=1e-4, atol=1e-7)


def test_each_clip_length_gets_its_own_gradient_step():
    model = tiny_model()
    long_input, short_input = clip_input(8, seed=2), clip_input(5, seed=3)
    first = saliency_maps(model, long_input, [7], [1])
    assert saliency_maps(model, short_input, [4], [1]).shape == (5, HEIGHT, WIDTH)
    np.testing.assert_array_equal(saliency_maps(model, long_input, [7], [1]), first)


def test_saliency_rejects_inputs_that_are_not_a_mouth_crop():
    model = tiny_model()
    with pytest.raises(ClipError, match="46, 140, 1"):
        saliency_maps(model, np.zeros((5, 46, 140), np.float32), [0], [0])
    with pytest.raises(ValueError, match="Frames must be"):
        saliency_maps(model, clip_input(5), [5], [0])


@pytest.mark.slow
def test_saliency_of_the_lipnet_network_in_inference_mode():
    from lipnet_core.model import build_model

    model, model_input = build_model(None), clip_input(12, seed=4)
    best = np.asarray(model(model_input[np.newaxis], training=False))[0].argmax(axis=-1)
    frames = [3, 4, 5]
    saliency = saliency_maps(model, model_input, frames, best[frames])
    assert saliency.shape == (12, HEIGHT, WIDTH) and saliency.dtype == np.float32
    assert np.isfinite(saliency).all() and saliency.min() >= 0 and saliency.max() > 0
    # Dropout off: with the reference's 0.5 dropout active, two runs would differ.
    np.testing.assert_array_equal(saliency_maps(model, model_input, frames, best[frames]), saliency)


def hot_spot_saliency(num_frames=4, frame=1, row=23, column=70) -> np.ndarray:
    saliency = np.zeros((num_frames, HEIGHT, WIDTH), np.float32)
    saliency[frame, row - 3:row + 4, column - 3:column + 4] = 1.0
    return saliency


def grey_input(num_frames=4) -> np.ndarray:
    """A grey ramp that brightens a little each frame (a GIF writer merges identical frames)."""
    ramp = np.linspace(-1, 1, HEIGHT * WIDTH, dtype=np.float32).reshape(1, HEIGHT, WIDTH, 1)
    return ramp + 0.1 * np.arange(num_frames, dtype=np.float32).reshape(-1, 1, 1, 1)


def test_overlay_colours_only_where_the_network_looks():
    model_input, saliency = grey_input(), hot_spot_saliency()
    saliency[2] = 1e-3  # a frame the word barely depends on: scaled with the clip, so it stays almost grey
    overlay = saliency_overlay(model_input, saliency)
    grey = to_display_range(model_input)
    assert overlay.shape == (4, HEIGHT, WIDTH, 3) and overlay.dtype == np.uint8
    np.testing.assert_array_equal(overlay[0], np.repeat(grey[0][..., np.newaxis], 3, axis=-1))
    red, green, blue = (int(value) for value in overlay[1, 23, 70])
    assert red > blue + 40 and green > blue  # inferno's bright end: yellow over mid-grey
    assert len(set(overlay[1, 23, 10].tolist())) == 1  # far from the spot: still grey
    assert np.abs(overlay[2].astype(int) - grey[2][..., np.newaxis]).max() < 16  # scaled alone: 186
    with pytest.raises(ValueError, match="does not match"):
        saliency_overlay(model_input, saliency[:, :10])


def test_saliency_gif_has_every_frame_enlarged_in_colour():
    model_input, saliency = grey_input(), hot_spot_saliency()
    frames = iio.imread(io.BytesIO(saliency_gif(model_input, saliency)), index=None, extension=".gif")
    assert frames.shape[:3] == (4, HEIGHT * GIF_SCALE, WIDTH * GIF_SCALE)
    red, green, blue = (int(value) for value in frames[1, 23 * GIF_SCALE, 70 * GIF_SCALE, :3])
    assert red > blue + 40
    grey_pixel = frames[0, 10 * GIF_SCALE, 10 * GIF_SCALE, :3].astype(int)
    assert grey_pixel.max() - grey_pixel.min() <= 8  # palette quantisation only


def test_saliency_strip_puts_the_chosen_frames_side_by_side_under_their_numbers():
    model_input, saliency = grey_input(6), hot_spot_saliency(6, frame=4)
    strip = saliency_strip(model_input, saliency, [1, 2, 4], columns=2)
    cell_height, cell_width = STRIP_LABEL_HEIGHT + HEIGHT * GIF_SCALE + STRIP_GAP, WIDTH * GIF_SCALE + STRIP_GAP
    assert strip.shape == (2 * cell_height, 2 * cell_width, 3) and strip.dtype == np.uint8
    overlay = saliency_overlay(model_input, saliency)
    third = strip[cell_height + STRIP_LABEL_HEIGHT:cell_height + STRIP_LABEL_HEIGHT + HEIGHT * GIF_SCALE,
                  :WIDTH * GIF_SCALE]
    np.testing.assert_array_equal(third[::GIF_SCALE, ::GIF_SCALE], overlay[4])
    assert strip[:STRIP_LABEL_HEIGHT, :cell_width].min() < 100  # the frame number is written above its tile
    assert (strip[cell_height:, cell_width:] == 255).all()  # three tiles in two columns: the last cell is empty
    assert iio.imread(iio.imwrite("<bytes>", strip, extension=".png"), extension=".png").shape == strip.shape
    with pytest.raises(ValueError, match="Frame numbers"):
        saliency_strip(model_input, saliency, [6])


def test_strip_frames_cover_the_word_and_a_margin_in_at_most_max_tiles():
    assert strip_frame_indices(10, 12, 75) == [7, 8, 9, 10, 11, 12, 13, 14, 15][::2]
    assert strip_frame_indices(0, 2, 75) == [0, 1, 2, 3, 4, 5]
    assert strip_frame_indices(70, 74, 75) == [67, 68, 69, 70, 71, 72, 73, 74]
    whole = strip_frame_indices(0, 74, 75, margin=0)
    assert len(whole) <= 8 and whole[0] == 0 and whole[-1] >= 65
