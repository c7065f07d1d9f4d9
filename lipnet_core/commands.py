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


def _clips_to_evaluate(arguments):
    from lipnet_core.dataset import data_dir, list_clips, load_split
    from lipnet_core.paths import SPLIT_PATH

    clips = list_clips(data_dir(arguments.data_dir))
    if not arguments.clips and not arguments.split:
        return clips, f"every clip with an alignment in {data_dir(arguments.data_dir)}"
    path = Path(arguments.clips or SPLIT_PATH)
    if path.suffix == ".json":
        which = arguments.split or "test"
        if which not in SPLIT_LISTS:
            raise DataDirError(f"There is no '{which}' list in a split: choose one of {', '.join(SPLIT_LISTS)}.")
        wanted = load_split(path)[which]
        description = f"the '{which}' clips of {path}"
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

    clips, description = _clips_to_evaluate(arguments)
    reader = LipReader(arguments.weights)
    progress = lambda items: tqdm(items, desc="evaluating", unit="clip", file=sys.stderr)  # noqa: E731
    results = evaluate_clips(reader, clips, progress=progress, described_as=description)
    if arguments.output:
        Path(arguments.output).write_text(json.dumps(results, indent=1) + "\n")
    if arguments.json:
        print(json.dumps({key: value for key, value in results.items() if key != "per_clip"}))
    else:
        print(f"{results['clips']} clips ({description}); weights {results['weights']}")
        for name, scores in results["decoders"].items():
            print(
                f"{name:7s} WER {scores['wer']:.2%}  CER {scores['cer']:.2%}  "
                f"sentence accuracy {scores['sentence_accuracy']:.2%}"
            )
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
