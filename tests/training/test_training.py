"""A short training smoke test on tiny synthetic clips (the real training never runs in CI)."""

from dataclasses import replace

import keras
import numpy as np
import pytest

from lipnet_core.dataset import save_split, split_clip_ids
from lipnet_core.errors import LipNetError
from lipnet_core.losses import ctc_loss
from lipnet_training.batches import WINDOW_LENGTHS, TrainingBatches
from lipnet_training.fit import (
    STATE_MODEL,
    Recipe,
    cpu_has_bfloat16,
    epochs_trained,
    learning_rate_for,
    patience_for_schedule,
    read_state,
    recipe_of_run,
    state_dir,
    train,
)
from lipnet_training.history import read_history, state_from_history
from lipnet_training.pack import PackedClip, build_training_pack, load_training_pack

pytestmark = pytest.mark.slow  # builds and trains networks


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
    from lipnet_training import cli, fit

    (tmp_path / "recipe.json").write_text('{"mixed_precision": true, "constant_epochs": 30, "patience": 7}\n')
    state_dir(tmp_path).mkdir()
    (state_dir(tmp_path) / "state.json").write_text('{"completed_epochs": 59}')
    runs = []
    monkeypatch.setattr(fit, "train_from_data_dir", lambda data, out, recipe, resume, pack, log, speaker: runs.append(recipe))
    arguments = ["train", "--data-dir", str(tmp_path), "--out", str(tmp_path), "--resume"]
    restart = ["--restart-schedule", "--learning-rate", "5e-5", "--constant-epochs", "5", "--decay-per-epoch", "0.3"]
    assert cli.main(arguments + restart) == 0
    assert cli.main(arguments + ["--no-mixed-precision", "--full-clip-fraction", "1"]) == 0
    restarted, resumed = runs
    assert (restarted.schedule_start_epoch, restarted.constant_epochs, restarted.decay_per_epoch) == (59, 5, 0.3)
    assert restarted.mixed_precision and restarted.patience == 7 and restarted.learning_rate == 5e-5 and restarted.flip
    assert resumed.schedule_start_epoch == 0 and not resumed.mixed_precision  # nothing was written: the fake trained
    assert restarted.full_clip_fraction == 0.25 and resumed.full_clip_fraction == 1.0


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


def test_windows_keep_every_spoken_frame_in_order():
    """Frame t of each clip is a flat grey 10 + 3t (a flip leaves a flat frame as it is), so each frame of a window
    tells which source frame it shows. The speech is frames 5..29: every window must hold all of it, in order."""
    flat_frames = (10 + 3 * np.arange(75, dtype=np.uint8))[:, None, None].repeat(46, axis=1).repeat(140, axis=2)
    clips = [PackedClip(name, flat_frames, sentence, 5, 30) for name, sentence in (("aaa", "bin red"), ("bbb", "set"))]
    mean, std = flat_frames.mean(), flat_frames.std()
    batches = TrainingBatches(clips, batch_size=2, full_clip_fraction=0.3)
    steps = []
    for epoch in range(12):
        batches.set_epoch(epoch)
        inputs, labels = batches[0]
        assert inputs.shape[1] in WINDOW_LENGTHS and labels.shape == (2, 48)
        for window in inputs:
            values = window[:, 0, 0, 0]
            values = np.trim_zeros(values, "b")  # the zero padding after a shortened clip
            source_frames = np.rint((values * std + mean - 10) / 3).astype(int)
            assert source_frames[0] <= 5 and source_frames[-1] >= 29, source_frames
            steps += np.diff(source_frames).tolist()
    assert set(steps) == {1}  # consecutive source frames: none dropped, repeated or reordered


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
    from lipnet_training.compact_pack import compare_packs, read_compact_pack, write_compact_pack

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


def test_a_pack_of_another_speaker_takes_its_aligned_clips_with_the_detected_crop(grid_dir, tmp_path):
    if not (grid_dir / "s26").is_dir():
        pytest.skip("no speaker 26")
    data = tmp_path / "data"
    (data / "s26").mkdir(parents=True)
    (data / "alignments" / "s26").mkdir(parents=True)
    for clip_id in sorted(path.stem for path in (grid_dir / "alignments" / "s26").glob("*.align"))[:2]:
        (data / "s26" / f"{clip_id}.mpg").symlink_to(grid_dir / "s26" / f"{clip_id}.mpg")
        (data / "alignments" / "s26" / f"{clip_id}.align").symlink_to(grid_dir / "alignments" / "s26" / f"{clip_id}.align")
    from lipnet_training.fit import load_pack

    pack = load_pack(data, tmp_path / "pack.npz", log=lambda line: None, speaker="s26")
    assert len(pack) == 2 and all(clip.mouth_frames.shape[1:] == (46, 140) for clip in pack.values())
    with pytest.raises(LipNetError, match="not a GRID speaker"):
        load_pack(data, tmp_path / "other.npz", log=lambda line: None, speaker="../s26")
