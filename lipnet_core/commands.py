"""The command-line subcommands (argument parsing lives in :mod:`lipnet_core.cli`)."""

import json
import sys
from pathlib import Path

from lipnet_core.errors import DataDirError

SPLIT_LISTS = ("train", "validation", "test")


def predict(arguments) -> int:
    from lipnet_core.reader import LipReader

    reader = LipReader(arguments.weights)
    reading = reader.read(arguments.clip, crop=arguments.crop, decoder=arguments.decoder)
    if arguments.json:
        print(json.dumps(reading.summary()))
    else:
        print(reading.text)
        print(f"tokens: {' '.join(map(str, reading.tokens))}", file=sys.stderr)
        print(f"crop: {reading.crop} {reading.box.as_dict()}; frames: {reading.num_frames}", file=sys.stderr)
    return 0


def clips_to_evaluate(arguments):
    from lipnet_core.dataset import data_dir, list_clips, load_split
    from lipnet_core.paths import SPLIT_PATH, display_path

    speaker = getattr(arguments, "speaker", "s1")
    clips = list_clips(data_dir(arguments.data_dir), speaker)
    if not arguments.clips and not arguments.split:
        return clips, f"every clip of GRID speaker {speaker.removeprefix('s')} in the data directory"
    path = Path(arguments.clips or SPLIT_PATH)
    if path.suffix == ".json":
        which = arguments.split or "test"
        if which not in SPLIT_LISTS:
            raise DataDirError(f"There is no '{which}' list in a split: choose one of {', '.join(SPLIT_LISTS)}.")
        wanted = load_split(path)[which]
        description = f"the '{which}' clips of {display_path(path)}"
    else:
        try:
            wanted = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        except OSError as error:
            raise DataDirError(f"Cannot read the clip list {path}: {error.strerror}.") from error
        description = f"the clips listed in {path}"
    by_id = {clip.clip_id: clip for clip in clips}
    missing = [clip_id for clip_id in wanted if clip_id not in by_id]
    if missing:
        raise DataDirError(f"{len(missing)} listed clips are not in the data directory (first: {missing[0]}).")
    return [by_id[clip_id] for clip_id in wanted], description


def evaluate(arguments) -> int:
    from tqdm import tqdm

    from lipnet_core.evaluation import evaluate_clips
    from lipnet_core.reader import LipReader

    clips, description = clips_to_evaluate(arguments)
    reader = LipReader(arguments.weights)
    precomputed = _readings_of(reader, arguments.readings) if getattr(arguments, "readings", None) else None
    progress = lambda items: tqdm(items, desc="evaluating", unit="clip", file=sys.stderr)  # noqa: E731
    results = evaluate_clips(reader, clips, progress=progress, described_as=description, crop=arguments.crop,
                             precomputed=precomputed)
    if arguments.output:
        Path(arguments.output).write_text(json.dumps(results, indent=1) + "\n")
    if arguments.json:
        print(json.dumps({key: value for key, value in results.items() if key != "per_clip"}))
    else:
        print(f"{results['clips']} clips ({description}); weights {results['weights']}"
              + (", each clip read with its mirror image" if results["read_mirrored"] else ""))
        for name, scores in results["decoders"].items():
            print(
                f"{name:7s} WER {scores['wer']:.2%}  CER {scores['cer']:.2%}  "
                f"sentence accuracy {scores['sentence_accuracy']:.2%}"
            )
    return 0


def _adaptation_items(arguments) -> tuple[list[tuple], dict]:
    """(clip path, sentence, name) of every clip to adapt to, and what they are, from the command's arguments."""
    from lipnet_core.dataset import check_speaker, data_dir, list_clips
    from lipnet_core.grid_sentences import sentence_from_id

    if arguments.clip_files and arguments.speaker:
        raise DataDirError("Give clip files or --speaker, not both.")
    if arguments.clip_files:
        items = []
        for path in map(Path, arguments.clip_files):
            sentence = sentence_from_id(path.stem)
            if sentence is None:
                raise DataDirError(f"{path.name} is not named by a GRID id (such as bbaf2n.mp4), so its sentence is "
                                   "unknown.")
            items.append((path, sentence, path.stem))
        return items, {"source": "clip files"}
    if not arguments.speaker:
        raise DataDirError("Say which clips to adapt to: --speaker sN (with --data-dir), or clip files.")
    clips = list_clips(data_dir(arguments.data_dir), check_speaker(arguments.speaker))
    if arguments.clips:
        try:
            wanted = [line.strip() for line in Path(arguments.clips).read_text().splitlines() if line.strip()]
        except OSError as error:
            raise DataDirError(f"Cannot read the clip list {arguments.clips}: {error.strerror}.") from error
        by_id = {clip.clip_id: clip for clip in clips}
        missing = [clip_id for clip_id in wanted if clip_id not in by_id]
        if missing:
            raise DataDirError(f"{len(missing)} listed clips are not clips of {arguments.speaker} (first: {missing[0]}).")
        clips = [by_id[clip_id] for clip_id in wanted]
    return [(clip.video_path, clip.sentence(), clip.clip_id) for clip in clips], {"speaker": arguments.speaker}


def adapt(arguments) -> int:
    from dataclasses import fields

    from tqdm import tqdm

    from lipnet_core.adaptation import AdaptationRecipe, adapt, load_adaptation_clips
    from lipnet_core.paths import DEFAULT_WEIGHTS

    items, described_as = _adaptation_items(arguments)
    given = {field.name: getattr(arguments, field.name, None) for field in fields(AdaptationRecipe)}
    recipe = AdaptationRecipe(**{name: value for name, value in given.items() if value is not None})
    with tqdm(total=len(items), desc="cropping", unit="clip", file=sys.stderr) as bar:
        clips = load_adaptation_clips(items, arguments.crop, lambda fraction, message: bar.update(1))
    with tqdm(total=100, desc="adapting", unit="%", bar_format="{l_bar}{bar}| {elapsed}<{remaining}{postfix}",
              file=sys.stderr) as bar:  # percent of the work: the features, a first run, a refit

        def progress(fraction: float, message: str) -> None:
            bar.n = round(fraction * 100)
            bar.set_postfix_str(message[:70])

        report = adapt(clips, arguments.out, recipe, arguments.weights or DEFAULT_WEIGHTS, progress,
                       {**described_as, "crop": arguments.crop})
    if arguments.json:
        print(json.dumps(report))
        return 0
    aside = len(report["clips_held_aside"])
    print(f"wrote {Path(arguments.out) / 'lipnet.weights.h5'} in {report['seconds']['total']:.0f} s: "
          f"{report['kept_epoch']} epochs, trained on "
          f"{len(report['clips_trained_on'])} clips")
    before, after = report["held_aside_before"], report["held_aside_after"]
    if before and after:
        print(f"the {aside} clips kept aside in a first run, GRID-grammar WER: {before['grid']['wer']:.1%} before, "
              f"{after['grid']['wer']:.1%} after (greedy {before['greedy']['wer']:.1%} → {after['greedy']['wer']:.1%})")
    return 0


def summary(arguments) -> int:
    from lipnet_core.model import GRID_NUM_FRAMES, build_model, layer_table

    model = build_model(GRID_NUM_FRAMES)
    rows = layer_table(model)
    result = {
        "layers": rows,
        "total_parameters": int(model.count_params()),
        "trainable_parameters": int(sum(int(w.numpy().size) for w in model.trainable_weights)),
        "input_shape": list(model.input_shape),
        "output_shape": list(model.output_shape),
    }
    if arguments.json:
        print(json.dumps(result))
        return 0
    print(f"{'layer':18s} {'type':18s} {'output shape':28s} {'parameters':>12s}")
    for row in rows:
        print(f"{row['name']:18s} {row['type']:18s} {row['output_shape']:28s} {row['parameters']:12,d}")
    print(f"total parameters: {result['total_parameters']:,d} (trainable {result['trainable_parameters']:,d})")
    print(f"input {tuple(model.input_shape)} → output {tuple(model.output_shape)}")
    return 0


def download(arguments) -> int:
    from lipnet_core.download import download as fetch

    destination = fetch(arguments.what, arguments.to)
    print(f"{arguments.what} is in {destination}")
    return 0


def _readings_of(reader, path):
    """The precomputed readings in ``path``, refused unless they were made with the reader's weights."""
    from lipnet_core.paths import file_sha256
    from lipnet_core.precomputed import load_readings

    readings = load_readings(path)
    if reader.weights_path is None or file_sha256(reader.weights_path) != readings.weights_sha256:
        raise DataDirError(f"{path} holds readings of other weights; run `python -m lipnet_core precompute` for these.")
    return readings


def precompute(arguments) -> int:
    """Run the network over every clip of a speaker once and store its outputs (see :mod:`lipnet_core.precomputed`)."""
    import time

    import numpy as np
    from tqdm import tqdm

    from lipnet_core.dataset import data_dir, list_clips
    from lipnet_core.paths import file_sha256
    from lipnet_core.precomputed import STORED_DTYPE, pack_readings, readings_path_for, save_readings
    from lipnet_core.reader import LipReader

    clips = list_clips(data_dir(arguments.data_dir), arguments.speaker)
    reader = LipReader(arguments.weights)
    if not Path(reader.weights_path).is_file():
        raise DataDirError("precompute needs a .weights.h5 file (its sha256 names the readings).")
    weights_sha256 = file_sha256(reader.weights_path)
    started = time.perf_counter()
    outputs, changed = [], []
    for clip in tqdm(clips, desc="precomputing", unit="clip", file=sys.stderr):
        reading = reader.read(clip.video_path, crop=arguments.crop)
        outputs.append(reading.class_probabilities)
        stored = reader.decode(reading.class_probabilities.astype(STORED_DTYPE).astype(np.float32))
        changed += [clip.clip_id for name, decoded in stored.items() if decoded.text != reading.decodings[name].text]
    readings = pack_readings(weights_sha256, arguments.crop, [clip.clip_id for clip in clips],
                             [file_sha256(clip.video_path) for clip in clips], outputs)
    out = Path(arguments.out or readings_path_for(weights_sha256))
    save_readings(out, readings)
    print(f"{len(clips)} clips of {arguments.speaker} ({arguments.crop} crop) in {time.perf_counter() - started:.0f} s "
          f"-> {out} ({out.stat().st_size / 1e6:.1f} MB); decodings that differ after storing as "
          f"{np.dtype(STORED_DTYPE).name}: {len(changed)}"
          + (f" ({', '.join(sorted(set(changed)))})" if changed else ""))
    return 0
