"""A short training smoke test on tiny synthetic clips (the real training never runs in CI)."""

from dataclasses import replace

import keras
import numpy as np
import pytest

from lipnet_core.dataset import save_split, split_clip_ids
from lipnet_core.history import read_history, state_from_history
from lipnet_core.losses import ctc_loss
from lipnet_core.model import build_model
from lipnet_core.training import (
    STATE_MODEL, Recipe, cpu_has_bfloat16, epochs_trained, learning_rate_for, patience_for_schedule, read_state,
    recipe_of_run, state_dir, train,
)
from lipnet_core.errors import LipNetError
from lipnet_core.training_data import (
    WINDOW_LENGTHS, WORD_WINDOW_LENGTHS, TrainingBatches, jittered_frame_indices, pad_with_edges, shift_frames,
    splice_words, stretched_speech,
)
from lipnet_core.training_pack import PackedClip, build_training_pack, load_training_pack
from lipnet_core.vocabulary import ids_to_text


def tiny_pack(num_frames=40):
    rng = np.random.default_rng(0)
    sentences = {"aaa": "bin red", "bbb": "set blue"}
    return {
        clip_id: PackedClip(clip_id, rng.integers(0, 255, (num_frames, 46, 140), dtype=np.uint8), sentence, 5, 30)
        for clip_id, sentence in sentences.items()
    }


def save_tiny_split(out_dir):
    save_split({"train": ["aaa", "bbb"], "validation": ["aaa"], "test": []}, out_dir / "split.json")


def test_reference_learning_rate_schedule():
    recipe = Recipe(learning_rate=1e-4)
    assert [learning_rate_for(epoch, recipe) for epoch in (0, 29)] == [1e-4, 1e-4]
    assert learning_rate_for(30, recipe) == pytest.approx(1e-4 * np.exp(-0.1))
    assert learning_rate_for(39, recipe) == pytest.approx(1e-4 * np.exp(-1.0))


def test_a_restarted_schedule_climbs_back_and_decays_again():
    recipe = Recipe(learning_rate=1e-4, constant_epochs=10, schedule_start_epoch=59)
    assert [learning_rate_for(epoch, recipe) for epoch in (59, 68)] == [1e-4, 1e-4]
    assert learning_rate_for(69, recipe) == pytest.approx(1e-4 * np.exp(-0.1))
    assert learning_rate_for(78, recipe) == pytest.approx(1e-4 * np.exp(-1.0))


def test_a_restarted_schedule_gets_the_full_patience_once():
    state = {"completed_epochs": 59, "best_epoch": 56, "epochs_without_improvement": 3}
    restarted = Recipe(schedule_start_epoch=59)
    assert patience_for_schedule(state, restarted)["epochs_without_improvement"] == 0
    assert patience_for_schedule({**state, "completed_epochs": 62}, restarted) == {**state, "completed_epochs": 62}
    assert patience_for_schedule(state, Recipe()) == state


def test_resume_keeps_the_saved_recipe_under_the_options_given(tmp_path):
    (tmp_path / "recipe.json").write_text(
        '{"epochs": 100, "learning_rate": 5e-05, "constant_epochs": 10, "schedule_start_epoch": 59, '
        '"mixed_precision": true, "an_option_of_a_later_version": 1}\n'
    )
    resumed = recipe_of_run(tmp_path, resume=True, epochs=120, batch_size=None)
    assert (resumed.epochs, resumed.learning_rate, resumed.constant_epochs) == (120, 5e-05, 10)
    assert resumed.schedule_start_epoch == 59 and resumed.mixed_precision and resumed.batch_size == 2
    assert recipe_of_run(tmp_path, resume=False, epochs=None) == Recipe()  # a new run starts from the defaults


def test_train_command_restarts_the_schedule_of_the_saved_recipe(tmp_path, monkeypatch):
    from lipnet_core import cli, training

    (tmp_path / "recipe.json").write_text('{"mixed_precision": true, "constant_epochs": 30, "patience": 7}\n')
    state_dir(tmp_path).mkdir()
    (state_dir(tmp_path) / "state.json").write_text('{"completed_epochs": 59}')
    runs = []
    monkeypatch.setattr(training, "train_from_data_dir", lambda data, out, recipe, resume, pack, log: runs.append(recipe))
    arguments = ["train", "--data-dir", str(tmp_path), "--out", str(tmp_path), "--resume"]
    restart = ["--restart-schedule", "--learning-rate", "5e-5", "--constant-epochs", "5", "--decay-per-epoch", "0.3"]
    assert cli.main(arguments + restart) == 0
    augmented = ["--frame-jitter", "0.05", "--shift-pixels", "2", "--full-clip-fraction", "1", "--dropout", "0.2"]
    augmented += ["--splice-words", "0.5"]
    assert cli.main(arguments + ["--no-mixed-precision"] + augmented) == 0
    restarted, resumed = runs
    assert (restarted.schedule_start_epoch, restarted.constant_epochs, restarted.decay_per_epoch) == (59, 5, 0.3)
    assert restarted.mixed_precision and restarted.patience == 7 and restarted.learning_rate == 5e-5 and restarted.flip
    assert resumed.schedule_start_epoch == 0 and not resumed.mixed_precision  # nothing was written: the fake trained
    assert (restarted.frame_jitter, restarted.shift_pixels) == (0.0, 0)  # augmentations stay off unless asked for
    assert (resumed.frame_jitter, resumed.shift_pixels, resumed.full_clip_fraction) == (0.05, 2, 1.0)
    assert restarted.full_clip_fraction == 0.25 and restarted.dropout == 0.5 and resumed.dropout == 0.2
    assert restarted.splice_words == 0.0 and resumed.splice_words == 0.5


def test_epochs_trained_reads_the_checkpoint_else_the_history(tmp_path):
    assert epochs_trained(tmp_path) == 0
    (tmp_path / "history.csv").write_text(
        "epoch,loss,val_loss,val_wer,val_cer,val_sentence_accuracy,lr,seconds\n1,70,65,1,0.9,0,0.0001,600\n"
    )
    assert epochs_trained(tmp_path) == 1
    state_dir(tmp_path).mkdir()
    (state_dir(tmp_path) / "state.json").write_text('{"completed_epochs": 3}')
    assert epochs_trained(tmp_path) == 3


def test_training_windows_contain_the_speech_and_snap_to_few_lengths():
    pack = tiny_pack(num_frames=75)
    batches = TrainingBatches(list(pack.values()), batch_size=2, full_clip_fraction=0.0)
    lengths = set()
    for epoch in range(6):
        batches.set_epoch(epoch)
        inputs, labels = batches[0]
        lengths.add(inputs.shape[1])
        assert inputs.dtype == np.float32 and inputs.shape[1] >= 25 + 4 and labels.shape == (2, 48)
    assert lengths <= set(WINDOW_LENGTHS)
    batches.set_epoch(3)
    first = batches[0][0]
    batches.set_epoch(3)
    np.testing.assert_array_equal(first, batches[0][0])  # the same epoch gives the same batch: resumable


def test_frame_jitter_drops_and_repeats_frames_in_order():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(jittered_frame_indices(75, 0.0, rng), np.arange(75))
    indices = jittered_frame_indices(2000, 0.1, rng)
    counts = np.bincount(indices, minlength=2000)
    assert np.all(np.diff(indices) >= 0) and set(counts) == {0, 1, 2}
    assert 0.07 < np.mean(counts == 0) < 0.13 and 0.07 < np.mean(counts == 2) < 0.13  # each about 0.1


def test_stretched_speech_plays_the_words_slower_or_faster_inside_the_clip():
    spans = ((10, 20), (20, 30), (30, 60))
    sources, same = stretched_speech(75, spans, 1.0)
    np.testing.assert_array_equal(sources, np.arange(75))
    assert same == spans
    sources, slower = stretched_speech(75, spans, 1.2)
    assert slower == ((5, 17), (17, 29), (29, 65))  # 20% longer about the speech's centre, frame 35
    assert sources[5] == 10 and sources[17] == 20 and sources[29] == 30 and np.all(np.diff(sources) >= 0)
    sources, faster = stretched_speech(75, spans, 0.8)
    assert faster == ((15, 23), (23, 31), (31, 55)) and sources[15] == 10 and sources[31] == 30
    assert np.all(sources[:8] == 0)  # before the speech the first frame stands still
    sources, capped = stretched_speech(75, spans, 2.0)  # 100 frames of speech cannot fit: capped at 75 / 50
    assert capped == ((0, 15), (15, 30), (30, 75)) and sources[0] == 10 and sources[-1] <= 59


def test_shift_frames_moves_the_picture_and_fills_the_edge():
    frames = np.zeros((2, 46, 140, 1), dtype=np.float32)
    frames[:, 20, 70] = 1.0
    frames[:, :, 0] = 5.0  # the left edge column
    moved = shift_frames(frames, 2, -3)
    assert moved.shape == frames.shape
    assert moved[0, 22, 67, 0] == 1.0 and moved[1, 20, 70, 0] == 0.0
    assert np.all(moved[:, :, -3:] == moved[:, :, [-4]])  # the uncovered right strip repeats the last column
    np.testing.assert_array_equal(shift_frames(frames, 0, 0), frames)


def test_jittered_windows_keep_every_spoken_frame_in_order():
    """Frame t of each clip is a flat grey 10 + 3t (flips and shifts leave a flat frame as it is), so each frame of a
    window tells which source frame it shows. The speech is frames 5..29: every window must hold all of it, in order,
    up to a frame the jitter dropped at its very edge."""
    flat_frames = (10 + 3 * np.arange(75, dtype=np.uint8))[:, None, None].repeat(46, axis=1).repeat(140, axis=2)
    clips = [PackedClip(name, flat_frames, sentence, 5, 30) for name, sentence in (("aaa", "bin red"), ("bbb", "set"))]
    mean, std = flat_frames.mean(), flat_frames.std()
    batches = TrainingBatches(clips, batch_size=2, full_clip_fraction=0.3, frame_jitter=0.1, shift_pixels=2)
    steps = []
    for epoch in range(12):
        batches.set_epoch(epoch)
        inputs, labels = batches[0]
        assert inputs.shape[1] in WINDOW_LENGTHS and labels.shape == (2, 48)
        for window in inputs:
            values = window[:, 0, 0, 0]
            values = values[values != 0]  # the zero padding after a shortened clip (and source frame 37, the mean)
            source_frames = np.rint((values * std + mean - 10) / 3).astype(int)
            assert source_frames[0] <= 6 and source_frames[-1] >= 28, source_frames
            steps += np.diff(source_frames).tolist()
    assert min(steps) == 0 and max(steps) >= 2  # frames were repeated and dropped, never reordered


def test_word_batches_hold_one_word_of_each_clip_labelled_with_that_word():
    """Frame t is a flat grey 10 + 3t, so a word window tells which source frames it shows. "bin" is frames 5..12,
    "red" 12..20: a window shows one word's frames (and up to 2 of its neighbours'), its edges held still."""
    flat_frames = (10 + 3 * np.arange(75, dtype=np.uint8))[:, None, None].repeat(46, axis=1).repeat(140, axis=2)
    spans = {"bin": (5, 12), "red": (12, 20), "set": (30, 38)}
    clips = [
        PackedClip("aaa", flat_frames, "bin red", 5, 20, (spans["bin"], spans["red"])),
        PackedClip("bbb", flat_frames, "set", 30, 38, (spans["set"],)),
    ]
    mean, std = flat_frames.mean(), flat_frames.std()
    batches = TrainingBatches(clips, batch_size=2, word_clips=1.0, shift_pixels=2)
    assert len(batches) == 2  # one batch of clips, one of words
    seen = set()
    for epoch in range(8):
        batches.set_epoch(epoch)
        word_batches = [batches[step] for step in range(2) if batches[step][0].shape[1] in WORD_WINDOW_LENGTHS]
        assert len(word_batches) == 1
        inputs, labels = word_batches[0]
        assert inputs.shape[1] == 16 and labels.shape == (2, 48)
        for window, label in zip(inputs, labels):
            word = "".join(chr(ord("a") + i - 1) for i in label if i)
            source_frames = np.rint((window[:, 0, 0, 0] * std + mean - 10) / 3).astype(int)
            start, end = spans[word]
            assert start - 2 <= source_frames.min() <= start and end - 1 <= source_frames.max() <= end + 1, word
            assert np.all(np.diff(source_frames) >= 0) and np.all(np.diff(source_frames) <= 1)
            seen.add(word)
    assert seen == {"bin", "red", "set"}


def test_splice_words_swaps_the_chosen_words_and_keeps_the_frames_around_them():
    host = np.arange(30)[:, None]  # frame t holds t
    donor = 100 + np.arange(40)[:, None]
    host_spans = ((3, 9), (8, 15), (18, 25))  # rounding gave "bin" the first frame of the next word; a pause 15..18
    donor_spans = ((5, 10), (10, 20), (20, 31))
    spliced, spans = splice_words(host, host_spans, {1: (donor, donor_spans)})
    expected = list(range(0, 8)) + list(range(110, 120)) + list(range(15, 30))
    assert spliced[:, 0].tolist() == expected
    assert spans == ((3, 8), (8, 18), (21, 28))
    spliced, spans = splice_words(host, host_spans, {0: (donor, donor_spans), 2: (donor, donor_spans)})
    assert spliced[:, 0].tolist() == [0, 1, 2, *range(105, 110), *range(8, 18), *range(120, 131), 25, 26, 27, 28, 29]
    np.testing.assert_array_equal(splice_words(host, host_spans, {})[0], host)


def test_spliced_batches_label_every_word_with_the_clip_it_was_cut_from():
    """Each word of each clip is a flat grey of its own, so a frame of a batch tells which clip's word it shows; with
    every word swapped, each window's label must name, position by position, the words its frames came from."""
    spans = ((5, 12), (12, 20))
    greys = {"aaa": ("bin", 100, "red", 150), "bbb": ("set", 200, "blue", 250)}
    clips, word_of_value = [], {}
    for clip_id, (first, first_grey, second, second_grey) in greys.items():
        frames = np.full((40, 46, 140), 50, dtype=np.uint8)
        frames[5:12], frames[12:20] = first_grey, second_grey
        clips.append(PackedClip(clip_id, frames, f"{first} {second}", 5, 20, spans))
        mean, std = frames.mean(), frames.std()
        word_of_value[round((first_grey - mean) / std, 3)] = first
        word_of_value[round((second_grey - mean) / std, 3)] = second
    batches = TrainingBatches(clips, batch_size=2, full_clip_fraction=1.0, flip=False, splice_words=1.0)
    sentences = set()
    for epoch in range(10):
        batches.set_epoch(epoch)
        inputs, labels = batches[0]
        for window, label in zip(inputs, labels):
            sentence = ids_to_text(label)
            frames_words = [word_of_value[round(float(window[frame, 0, 0, 0]), 3)] for frame in (8, 16)]
            assert frames_words == sentence.split(), (frames_words, sentence)
            sentences.add(sentence)
    assert {"bin blue", "set red"} <= sentences  # sentences no clip has


def test_pad_with_edges_holds_the_first_and_last_frames():
    frames = np.arange(3, dtype=np.float32)[:, None]
    np.testing.assert_array_equal(pad_with_edges(frames, 7, 2)[:, 0], [0, 0, 0, 1, 2, 2, 2])


def test_word_batches_need_a_pack_with_word_spans():
    with pytest.raises(LipNetError, match="rebuild"):
        TrainingBatches(list(tiny_pack().values()), word_clips=0.5)
    assert len(TrainingBatches(list(tiny_pack().values()))) == 1  # without word clips an old pack still trains


def test_loss_goes_down_and_resume_continues(tmp_path):
    pack = tiny_pack()
    save_tiny_split(tmp_path)
    recipe = Recipe(epochs=1, batch_size=2, learning_rate=1e-3, steps_per_epoch=1, full_clip_fraction=1.0, flip=False)
    log = []
    train(pack, tmp_path, recipe, log=log.append)
    recipe.epochs = 4
    train(pack, tmp_path, recipe, resume=True, log=log.append)
    assert any("resuming after epoch 1" in line for line in log)
    recipe_text = (tmp_path / "recipe.json").read_text()
    train(pack, tmp_path, replace(recipe, epochs=3, learning_rate=5e-5), resume=True, log=log.append)
    assert log[-1].startswith("nothing to train:") and "ask for more than 4" in log[-1]
    assert (tmp_path / "recipe.json").read_text() == recipe_text  # a run that trains nothing leaves its recipe
    history = read_history(tmp_path / "history.csv")
    assert [int(row["epoch"]) for row in history] == [1, 2, 3, 4]
    losses = [float(row["loss"]) for row in history]
    assert losses[-1] < losses[0]
    state = read_state(tmp_path)
    assert state["completed_epochs"] == 4
    resumed = keras.models.load_model(state_dir(tmp_path) / STATE_MODEL, compile=False)
    assert resumed.count_params() == 8_471_924
    assert (tmp_path / "lipnet.weights.h5").stat().st_size < 40e6  # model variables only, no optimiser state


def test_resume_in_another_precision_rebuilds_the_model_with_its_optimiser_state(tmp_path):
    pack = tiny_pack()
    save_tiny_split(tmp_path)
    recipe = Recipe(epochs=1, learning_rate=1e-3, steps_per_epoch=1, full_clip_fraction=1.0, flip=False)
    log = []
    try:
        train(pack, tmp_path, replace(recipe, mixed_precision=True), log=log.append)
        saved = keras.models.load_model(state_dir(tmp_path) / STATE_MODEL, compile=False)
        assert saved.layers[0].dtype_policy.name == "mixed_bfloat16"
        train(pack, tmp_path, replace(recipe, epochs=2), resume=True, log=log.append)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert any("rebuilt in float32" in line for line in log)
    resumed = keras.models.load_model(state_dir(tmp_path) / STATE_MODEL, custom_objects={"ctc_loss": ctc_loss})
    assert {layer.dtype_policy.name for layer in resumed.layers} == {"float32"}
    assert int(resumed.optimizer.iterations.numpy()) == 2  # the first epoch's Adam step was carried over


def dropout_rates(model):
    return [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]


def test_the_recipe_sets_the_training_dropout_of_a_new_run_and_of_a_resumed_one(tmp_path):
    pack = tiny_pack()
    save_tiny_split(tmp_path)
    recipe = Recipe(epochs=1, learning_rate=1e-3, steps_per_epoch=1, full_clip_fraction=1.0, flip=False, dropout=0.1)
    train(pack, tmp_path, recipe, log=lambda line: None)
    saved = keras.models.load_model(state_dir(tmp_path) / STATE_MODEL, compile=False)
    assert dropout_rates(saved) == [0.1, 0.1]
    train(pack, tmp_path, replace(recipe, epochs=2, dropout=0.3), resume=True, log=lambda line: None)
    resumed = keras.models.load_model(state_dir(tmp_path) / STATE_MODEL, compile=False)
    assert dropout_rates(resumed) == [0.3, 0.3]
    reference = build_model()
    reference.load_weights(tmp_path / "lipnet.weights.h5")  # weights trained at another rate load unchanged
    assert dropout_rates(reference) == [0.5, 0.5]


class Interrupted(Exception):
    pass


def test_an_epoch_killed_after_a_checkpoint_resumes_at_the_next_step(tmp_path):
    pack = tiny_pack()
    save_tiny_split(tmp_path)
    recipe = Recipe(epochs=2, batch_size=1, learning_rate=1e-3, full_clip_fraction=1.0, flip=False)

    def kill_at_checkpoint(line):
        if line.startswith("checkpoint:"):
            raise Interrupted(line)

    with pytest.raises(Interrupted, match="epoch 1 step 1/2"):
        train(pack, tmp_path, recipe, log=kill_at_checkpoint, checkpoint_seconds=0)
    state = read_state(tmp_path)
    assert state["completed_epochs"] == 0 and len(state["epoch_in_progress"]["losses"]) == 1
    seconds_before_the_kill = state["epoch_in_progress"]["seconds"]

    log = []
    train(pack, tmp_path, recipe, resume=True, log=log.append, checkpoint_seconds=0)
    assert "resuming epoch 1 at step 2/2" in log
    # epoch 1 went on from step 2 (its last, so no checkpoint); epoch 2 started at step 1
    assert [line for line in log if line.startswith("checkpoint:")] == ["checkpoint: epoch 2 step 1/2"]
    history = read_history(tmp_path / "history.csv")
    assert [int(row["epoch"]) for row in history] == [1, 2]
    assert float(history[0]["seconds"]) > seconds_before_the_kill
    state = read_state(tmp_path)
    assert state["completed_epochs"] == 2 and "epoch_in_progress" not in state


def test_warm_start_keeps_the_best_epoch_from_the_history(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text(
        "epoch,loss,val_loss,val_wer,val_cer,val_sentence_accuracy,lr,seconds\n"
        "1,70,65,1,0.9,0,0.0001,600\n2,60,50,1,0.8,0,0.0001,700\n3,55,52,1,0.8,0,0.0001,650\n"
    )
    state = state_from_history(history)
    assert state == {
        "completed_epochs": 3, "training_seconds": 1950.0, "best_val_loss": 50.0, "best_epoch": 2,
        "epochs_without_improvement": 1,
    }


def test_mixed_precision_warning_reads_the_cpu_flags():
    assert cpu_has_bfloat16("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile\n")
    assert not cpu_has_bfloat16("processor\t: 0\nflags\t\t: fpu sse4_2 avx2 fma\nflags\t\t: fpu avx2\n")
    assert cpu_has_bfloat16("")  # unknown: no warning


def test_training_pack_gives_the_inference_crop(grid_dir, tmp_path):
    data = tmp_path / "data"
    (data / "s1").mkdir(parents=True)
    (data / "alignments" / "s1").mkdir(parents=True)
    for clip_id in ("bbaf2n", "lrae3s"):
        (data / "s1" / f"{clip_id}.mp4").symlink_to(grid_dir / "s1" / f"{clip_id}.mp4")
        (data / "alignments" / "s1" / f"{clip_id}.align").symlink_to(grid_dir / "alignments" / "s1" / f"{clip_id}.align")
    pack = load_training_pack(build_training_pack(data, tmp_path / "pack.npz"))
    from lipnet_core.preprocessing import prepare_clip

    for clip_id, packed in pack.items():
        prepared = prepare_clip(data / "s1" / f"{clip_id}.mp4")
        np.testing.assert_array_equal(packed.mouth_frames, prepared.mouth_frames)
    assert pack["bbaf2n"].sentence == "bin blue at f two now" and len(pack["lrae3s"].mouth_frames) == 74
    assert pack["bbaf2n"].word_spans[3] == (35, 41) and len(pack["lrae3s"].word_spans) == 6
    assert split_clip_ids(pack) == split_clip_ids(reversed(list(pack)))


@pytest.mark.parametrize("crf", [0, 4])
def test_compact_pack_round_trip(tmp_path, crf):
    from lipnet_core.compact_pack import compare_packs, read_compact_pack, write_compact_pack

    pack = tiny_pack()
    rng = np.random.default_rng(1)
    smooth = np.cumsum(rng.integers(-2, 3, (40, 46, 140)), axis=0).clip(-60, 60) + 128  # video-like, not noise
    pack["ccc"] = PackedClip("ccc", smooth.astype(np.uint8), "lay white", 3, 33, ((3, 20), (20, 33)))
    copy = read_compact_pack(write_compact_pack(pack, tmp_path / "compact", crf=crf, parts=2))
    assert sorted(copy) == sorted(pack) and copy["ccc"].sentence == "lay white" and copy["ccc"].speech_end_frame == 33
    assert copy["ccc"].word_spans == ((3, 20), (20, 33)) and copy["aaa"].word_spans == ()
    difference = compare_packs(pack, copy)
    if crf == 0:
        assert difference["max_grey"] == 0 and difference["max_input"] == 0.0
    else:
        assert difference["mean_grey"] < 20  # lossy: only the layout and the order of the frames are exact
