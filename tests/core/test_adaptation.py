"""Teaching the network a new face: the split, a tiny adaptation whose loss falls, and weights LipReader loads."""

import json

import keras
import numpy as np
import pytest

from lipnet_core import adaptation, head_features
from lipnet_core.adaptation import (
    ADAPTATION_REPORT,
    ADAPTED_WEIGHTS,
    AdaptationClip,
    AdaptationRecipe,
    adapt,
    compile_faster_step,
    load_adaptation_clips,
    reset_optimizer,
    split_aside,
)
from lipnet_core.cli import main
from lipnet_core.errors import LipNetError
from lipnet_core.head_features import HEAD_LAYERS, clip_features, cpu_has_bfloat16
from lipnet_core.model import build_model
from lipnet_core.reader import LipReader

pytestmark = pytest.mark.slow  # builds and trains networks

SENTENCES = ["bin blue at f two now", "set red by z nine again", "lay green in a one soon", "place white with q six please",
             "bin red at b zero now"]


@pytest.fixture(scope="module")
def start_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("start") / "start.weights.h5"
    build_model(None).save_weights(path)
    return path


def tiny_clips(count=5, num_frames=30):
    rng = np.random.default_rng(0)
    return [AdaptationClip(f"clip{i}", SENTENCES[i % len(SENTENCES)],
                           rng.integers(0, 255, (num_frames, 46, 140), dtype=np.uint8)) for i in range(count)]


def test_split_aside_keeps_at_most_a_fifth_and_loses_no_clip():
    clips = list(range(30))
    train, aside = split_aside(clips, 4, seed=1)
    assert len(aside) == 4 and sorted(train + aside) == clips
    assert split_aside(clips, 4, seed=1) == (train, aside)  # reproducible
    assert len(split_aside(list(range(10)), 4)[1]) == 2 and split_aside(list(range(4)), 4)[1] == []


def test_adapting_trains_only_the_head_lowers_the_loss_and_writes_loadable_weights(start_weights, tmp_path):
    clips = tiny_clips(5)
    heard = []
    recipe = AdaptationRecipe(epochs=4, learning_rate=3e-3, batch_size=4, held_aside=1)
    report = adapt(clips, tmp_path, recipe, start_weights, lambda *progress: heard.append(progress),
                   {"speaker": "test"})
    losses = [row["loss"] for row in report["history"]]
    assert losses[-1] < losses[0], losses
    fractions = [fraction for fraction, message in heard]
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    features = [fraction for fraction, message in heard if message.startswith("convolutional features")]
    # the bar moves while the features are computed (5 clips, mirrored)
    assert 0 < features[0] < features[-1] == adaptation.FEATURES_SHARE
    assert "convolutional features: 10 of 10 views" in [message for fraction, message in heard]
    assert report["speaker"] == "test" and len(report["clips_held_aside"]) == 1
    assert report["refit_on_every_clip"] and sorted(report["clips_trained_on"]) == sorted(clip.name for clip in clips)
    assert report["letter_term"] and report["recipe"]["letter_weight"] == 3.0
    assert report["features_in_bfloat16"] is False or cpu_has_bfloat16()  # tried only where the CPU has it
    assert report["training_step_with_xla"] in (True, False)
    assert 1 <= report["kept_epoch"] <= 4 and report["held_aside_after"]["grid"]["clips"] == 1
    assert json.loads((tmp_path / ADAPTATION_REPORT).read_text()) == report
    adapted, start = LipReader(tmp_path / ADAPTED_WEIGHTS), LipReader(start_weights)
    assert adapted.read_mirrored and not start.read_mirrored  # the file says how to read it
    for layer, start_layer in zip(adapted.model.layers, start.model.layers):
        same = all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), start_layer.get_weights()))
        assert same == (layer.name not in HEAD_LAYERS or not layer.get_weights()), layer.name


def test_features_computed_in_bfloat16_are_the_float32_features_rounded(start_weights):
    network = build_model(None)
    network.load_weights(start_weights)
    model_inputs = [clip.model_input for clip in tiny_clips(2, num_frames=12)]
    exact = clip_features(network, model_inputs, 12, batch_size=2)
    fast = clip_features(network, model_inputs, 12, batch_size=2, bfloat16=True)
    assert fast.shape == exact.shape == (2, 12, 6375) and fast.dtype == np.float16
    assert not np.array_equal(fast, exact), "bfloat16 was not used"
    assert np.corrcoef(fast.ravel(), exact.ravel())[0, 1] > 0.999
    assert all(layer.dtype_policy.name == "float32" for layer in network.layers)  # the network is untouched


def test_bfloat16_is_used_only_where_the_cpu_says_it_multiplies_it(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert cpu_has_bfloat16(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni\n")
    assert not cpu_has_bfloat16(cpuinfo)
    assert not cpu_has_bfloat16(tmp_path / "absent")


def test_the_cpu_is_described_by_its_model_and_whether_it_has_avx512(tmp_path):
    from lipnet_core.machine import cpu_description, cpu_model

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 fma\n")
    assert cpu_description(cpuinfo).endswith("-core AMD EPYC without AVX-512")
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f\n")
    assert cpu_description(cpuinfo).endswith("-core AMD EPYC with AVX-512")
    assert cpu_model(tmp_path / "absent") == "unknown CPU"


def test_without_bfloat16_in_the_cpu_the_features_stay_float32_computed_once(monkeypatch, start_weights):
    monkeypatch.setattr(head_features, "cpu_has_bfloat16", lambda: False)
    passes = []
    exact = head_features.features_through
    monkeypatch.setattr(head_features, "features_through", lambda *arguments: passes.append(1) or exact(*arguments))
    network = build_model(None)
    network.load_weights(start_weights)
    model_inputs = [clip.model_input for clip in tiny_clips(2, num_frames=12)]
    feature_model, bfloat16, features = head_features.fastest_features_of(network, model_inputs, 12)
    assert bfloat16 is False and len(passes) == 1
    assert all(layer.dtype_policy.name == "float32" for layer in feature_model.layers)
    assert np.array_equal(features, clip_features(network, model_inputs, 12, batch_size=2))


def test_with_bfloat16_in_the_cpu_the_faster_precision_wins_and_its_features_are_kept(monkeypatch, start_weights):
    monkeypatch.setattr(head_features, "cpu_has_bfloat16", lambda: True)
    seconds = iter([0.0, 5.0, 10.0, 11.0])  # float32 takes 5 s, bfloat16 1 s
    monkeypatch.setattr(head_features.time, "perf_counter", lambda: next(seconds))
    network = build_model(None)
    network.load_weights(start_weights)
    model_inputs = [clip.model_input for clip in tiny_clips(2, num_frames=12)]
    feature_model, bfloat16, features = head_features.fastest_features_of(network, model_inputs, 12)
    assert bfloat16 is True and feature_model.get_layer(index=1).dtype_policy.name == "mixed_bfloat16"
    assert np.array_equal(features, clip_features(network, model_inputs, 12, batch_size=2, bfloat16=True))


def tiny_regression():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    rng = np.random.default_rng(0)
    return model, rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 2)).astype(np.float32)


def test_a_reset_optimizer_trains_as_a_new_one_would():
    model, inputs, targets = tiny_regression()
    start = model.get_weights()

    def two_steps():
        for _ in range(2):
            model.train_on_batch(inputs, targets)
        return model.get_weights()

    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    fresh = two_steps()
    model.set_weights(start)
    reset_optimizer(model.optimizer)
    again = two_steps()
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(fresh, again))
    assert not all(np.allclose(a, b) for a, b in zip(fresh, start))  # the learning rate survived the reset


@pytest.mark.parametrize("with_xla", [True, False])
def test_the_training_step_is_compiled_the_faster_way(monkeypatch, with_xla):
    model, inputs, targets = tiny_regression()
    # two timed steps each, XLA first: start and end of each step
    step = {True: 1.0, False: 2.0} if with_xla else {True: 2.0, False: 1.0}
    clock = iter(np.cumsum([0, step[True], 0, step[True], 0, step[False], 0, step[False]]).tolist())
    monkeypatch.setattr(adaptation.time, "perf_counter", lambda: next(clock))
    assert compile_faster_step(model, "mse", 1e-3, inputs, targets, {}) is with_xla
    assert model.jit_compile is with_xla


def test_without_a_refit_the_clips_aside_stay_unseen(start_weights, tmp_path):
    clips = tiny_clips(5)
    report = adapt(clips, tmp_path, AdaptationRecipe(epochs=2, held_aside=1, refit=False), start_weights)
    assert not report["refit_on_every_clip"] and len(report["clips_trained_on"]) == 4
    assert report["clips_held_aside"] == [clip.name for clip in clips if clip.name not in report["clips_trained_on"]]


def test_sentences_that_are_not_grid_sentences_train_with_ctc_alone(start_weights, tmp_path):
    clips = [AdaptationClip(clip.name, "hello there" if i == 0 else clip.sentence, clip.mouth_frames)
             for i, clip in enumerate(tiny_clips(4))]
    report = adapt(clips, tmp_path, AdaptationRecipe(epochs=1, held_aside=0), start_weights)
    assert not report["letter_term"] and (tmp_path / ADAPTED_WEIGHTS).is_file()


def test_adapting_needs_a_few_clips(start_weights, tmp_path):
    with pytest.raises(LipNetError, match="at least 3 clips"):
        adapt(tiny_clips(2), tmp_path, AdaptationRecipe(epochs=1), start_weights)


def test_a_clip_without_a_face_is_named_in_the_error(synthetic_clip):
    from lipnet_core.errors import FaceNotFoundError

    with pytest.raises(FaceNotFoundError, match="^my first take: No face"):
        load_adaptation_clips([(synthetic_clip(num_frames=30), "bin blue at f two now", "my first take")])


def test_the_adapt_command_on_grid_clips_of_another_speaker(grid_dir, start_weights, tmp_path, capsys):
    if not (grid_dir / "s4").is_dir():
        pytest.skip("no speaker 4")
    listed = tmp_path / "clips.txt"
    listed.write_text("bbaf2a\nbbwgza\nbgim8s\n")
    out = tmp_path / "out"
    arguments = ["adapt", "--data-dir", str(grid_dir), "--speaker", "s4", "--clips", str(listed), "--out", str(out),
                 "--weights", str(start_weights), "--epochs", "1", "--json"]
    assert main(arguments) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["speaker"] == "s4" and report["crop"] == "detected"
    assert sorted(report["clips_trained_on"]) == ["bbaf2a", "bbwgza", "bgim8s"]
    assert (out / ADAPTED_WEIGHTS).is_file()
    # the check: evaluate reads with the adapted weights as their file says (each clip and its mirror image)
    assert main(["evaluate", "--data-dir", str(grid_dir), "--speaker", "s4", "--clips", str(listed), "--weights",
                 str(out / ADAPTED_WEIGHTS), "--crop", "detected", "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert evaluation["clips"] == 3 and evaluation["read_mirrored"] is True


def test_the_adapt_command_refuses_what_it_cannot_use(tmp_path, capsys):
    assert main(["adapt", "--out", str(tmp_path)]) == 2
    assert "--speaker" in capsys.readouterr().err
    clip = tmp_path / "my holiday.mp4"
    clip.write_bytes(b"x")
    assert main(["adapt", str(clip), "--out", str(tmp_path)]) == 2
    assert "not named by a GRID id" in capsys.readouterr().err
    assert main(["adapt", "--speaker", "../s1", "--data-dir", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "not a GRID speaker" in capsys.readouterr().err
