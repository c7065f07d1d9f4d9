"""The reader and the command line, with randomly initialised weights (nothing here claims a reading is right)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from lipnet_core.cli import main
from lipnet_core.errors import ClipError, WeightsError
from lipnet_core.reader import LipReader
from lipnet_core.uploads import upload_suffix


def test_reading_of_a_grid_clip_has_every_stage(reader, grid_dir):
    reading = reader.read(grid_dir / "s1" / "bbaf2n.mp4")
    assert reading.crop == "grid" and reading.box.as_dict() == {"top": 190, "left": 80, "bottom": 236, "right": 220}
    assert reading.class_probabilities.shape == (75, 41) and reading.class_probabilities.dtype == np.float32
    np.testing.assert_allclose(reading.class_probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert reading.mouth_frames.shape == (75, 46, 140) and reading.model_input.shape == (75, 46, 140, 1)
    assert set(reading.decodings) == {"greedy", "beam", "grid"}
    assert reading.decodings["grid"].text.count(" ") == 5  # the grammar decoder always gives a GRID sentence
    assert set(reading.seconds) == {"read", "crop", "model", "decode"} and reading.key_frame.shape == (288, 360, 3)


def test_clips_of_different_lengths_in_a_row(reader, grid_dir):
    """A 74-frame clip after a 75-frame one (and back) gets one probability row per frame."""
    for clip_id, num_frames in [("bbaf2n", 75), ("lrae3s", 74), ("bbaf2n", 75)]:
        assert reader.read(grid_dir / "s1" / f"{clip_id}.mp4").class_probabilities.shape == (num_frames, 41)


def test_truncated_mp4_with_a_readable_start_is_refused(grid_dir, tmp_path):
    whole = (grid_dir / "s1" / "bbal6n.mp4").read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ClipError, match="truncated"):
        from lipnet_core.video import read_clip

        read_clip(half)


def test_warming_up_leaves_a_traced_step_for_grid_length_clips_and_the_face_detector_loaded(reader):
    from lipnet_core.demo.views import warm_up_live_reading
    from lipnet_core.face_detection import _load_detector

    warm_up_live_reading(reader)
    assert ("predict", (1, 75, 46, 140, 1)) in reader._compiled_steps
    assert _load_detector.cache_info().currsize == 1


def test_warming_up_on_a_grid_clip_reads_it_as_an_upload_is_read(reader, grid_dir, tmp_path, monkeypatch):
    from lipnet_core.demo import views

    assert views.warm_up_clip(tmp_path) is None  # no GRID data: the still clip and the blank frame only
    clip = views.warm_up_clip(grid_dir)
    assert clip is not None and clip.speaker == "s1"
    crops = []
    read = reader.read
    monkeypatch.setattr(reader, "read", lambda path, crop="auto", **options: crops.append(crop) or read(
        path, crop=crop, **options))
    views.warm_up_live_reading(reader, clip)
    assert crops == ["detected", "detected", "grid"]  # twice as an upload (the face detector), then its page


def test_reader_without_weights():
    with pytest.raises(WeightsError, match="No weights file"):
        LipReader("/nonexistent/lipnet.weights.h5")


def test_upload_names_only_choose_an_extension(reader, grid_dir):
    assert upload_suffix("../../etc/passwd.MP4") == ".mp4"
    with pytest.raises(ClipError, match="not accepted"):
        upload_suffix("notes.txt")
    reading = reader.read_bytes((grid_dir / "s1" / "bbaf2n.mp4").read_bytes(), "../../../tmp/evil name.mp4")
    assert reading.num_frames == 75


def test_cli_predict_json(random_weights, grid_dir, capsys):
    assert main(["predict", str(grid_dir / "mpg" / "bbal6n.mpg"), "--weights", str(random_weights), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"text", "tokens", "decoder", "crop", "box", "frames", "seconds"} <= result.keys()
    assert result["crop"] == "grid" and result["frames"] == 75 and result["decoder"] == "greedy"
    assert set(result["seconds"]) == {"read", "crop", "model", "decode"}
    assert result["box"] == {"top": 190, "left": 80, "bottom": 236, "right": 220}


def test_cli_evaluate_and_summary_json(random_weights, grid_dir, tmp_path, capsys):
    clip_list = tmp_path / "clips.txt"
    clip_list.write_text("bbaf2n\nbbal6n\n")
    arguments = ["evaluate", "--data-dir", str(grid_dir), "--clips", str(clip_list), "--weights", str(random_weights)]
    assert main(arguments + ["--json", "--output", str(tmp_path / "metrics.json")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 2 and set(result["decoders"]) == {"greedy", "beam", "grid"}
    assert {"wer", "cer", "sentence_accuracy"} <= result["decoders"]["greedy"].keys()
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert [row["clip"] for row in written["per_clip"]] == ["bbaf2n", "bbal6n"]
    assert main(["summary", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["total_parameters"] == 8_471_924 and summary["output_shape"] == [None, 75, 41]


def test_cli_errors_are_one_line_with_exit_code_2(random_weights, tmp_path, bad_clip_files, capsys):
    for name, path in bad_clip_files.items():
        assert main(["predict", str(path), "--weights", str(random_weights), "--json"]) == 2, name
        captured = capsys.readouterr()
        assert captured.out == "", name
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, captured.err)
    assert main(["evaluate", "--data-dir", str(tmp_path / "nowhere")]) == 2
    assert "No GRID data" in capsys.readouterr().err


def test_cli_evaluate_split_alone_reads_the_projects_split(grid_dir):
    """`--split validation` without `--clips` must not quietly evaluate all 900 clips."""
    from lipnet_core.cli import build_parser
    from lipnet_core.commands import clips_to_evaluate
    from lipnet_core.dataset import load_split
    from lipnet_core.paths import SPLIT_PATH

    def chosen(*extra):
        arguments = build_parser().parse_args(["evaluate", "--data-dir", str(grid_dir), *extra])
        clips, description = clips_to_evaluate(arguments)
        return [clip.clip_id for clip in clips], description

    validation, description = chosen("--split", "validation")
    assert validation == load_split(SPLIT_PATH)["validation"] and "'validation' clips" in description
    assert len(chosen()[0]) == 900
    assert chosen("--clips", str(SPLIT_PATH))[0] == load_split(SPLIT_PATH)["test"]
    assert main(["evaluate", "--data-dir", str(grid_dir), "--split", "holdout"]) == 2


def test_cli_process_prints_only_the_error(random_weights, tmp_path, repo_root):
    text = tmp_path / "text.mp4"
    text.write_text("not a video")
    completed = subprocess.run(
        [sys.executable, "-m", "lipnet_core", "predict", str(text), "--weights", str(random_weights)],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.strip().splitlines() == [
        "error: This file is not a video OpenCV can decode (mp4, mov, avi, mpg, webm are accepted)."
    ]


def test_weights_marked_to_read_mirrored_read_the_mean_of_the_clip_and_its_mirror_image(random_weights, tmp_path):
    import shutil

    from lipnet_core.weights import mark_read_mirrored, reads_mirrored

    marked = tmp_path / "adapted.weights.h5"
    shutil.copy(random_weights, marked)
    mark_read_mirrored(marked)
    assert reads_mirrored(marked) and not reads_mirrored(random_weights)
    assert not reads_mirrored(tmp_path / "missing.weights.h5") and not reads_mirrored(None)
    single, mirrored = LipReader(random_weights), LipReader(marked)
    assert mirrored.read_mirrored and not single.read_mirrored
    model_input = np.random.default_rng(0).normal(size=(20, 46, 140, 1)).astype(np.float32)
    expected = (single.probabilities(model_input) + single.probabilities(model_input[:, :, ::-1])) / 2
    np.testing.assert_allclose(mirrored.probabilities(model_input), expected, atol=1e-6)
    assert not np.allclose(single.probabilities(model_input), expected, atol=1e-6)  # the mirror image reads otherwise
