"""``python -m lipnet_core {predict,evaluate,summary,train,retrain-head,pack,download}``.

Errors a user can fix print one line on stderr and exit with status 2; ``--json`` prints one JSON object on stdout.
"""

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lipnet_core.errors import LipNetError  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lipnet_core", description="LipNet lip reading on GRID clips.")
    commands = parser.add_subparsers(dest="command", required=True)

    predict = commands.add_parser("predict", help="read the sentence spoken in a clip")
    predict.add_argument("clip")
    predict.add_argument("--weights", help="a .weights.h5 file or a TensorFlow checkpoint prefix")
    predict.add_argument("--decoder", choices=("greedy", "beam", "grid"), default="greedy")
    predict.add_argument("--crop", choices=("auto", "grid", "detected"), default="auto")
    predict.add_argument("--json", action="store_true")

    evaluate = commands.add_parser("evaluate", help="WER / CER / sentence accuracy over clips with alignments")
    evaluate.add_argument("--data-dir", help="GRID data directory (default $LIPNET_DATA_DIR or ./data)")
    evaluate.add_argument("--clips", help="a file of clip ids (one per line) or a split.json (its test clips)")
    evaluate.add_argument(
        "--split",
        help="which list of a split.json to evaluate (default test; alone, of the project's models/split.json)",
    )
    evaluate.add_argument("--weights")
    evaluate.add_argument("--output", help="also write the metrics JSON to this file")
    evaluate.add_argument("--json", action="store_true")

    summary = commands.add_parser("summary", help="the layer table and parameter counts")
    summary.add_argument("--json", action="store_true")

    train = commands.add_parser("train", help="train on GRID (resumable)")
    train.add_argument("--data-dir")
    train.add_argument("--out", default="models")
    train.add_argument("--resume", action="store_true", help="go on from --out; options not given keep its recipe.json")
    train.add_argument("--epochs", type=int, help="epochs in all, counting those already trained (default 100)")
    train.add_argument("--batch-size", type=int, help="default 2")
    train.add_argument("--learning-rate", type=float, help="the constant rate before the decay (default 1e-4)")
    train.add_argument("--constant-epochs", type=int, help="epochs at --learning-rate before the decay (default 30)")
    train.add_argument("--decay-per-epoch", type=float, help="then the rate is multiplied by exp(-this) each epoch (0.1)")
    train.add_argument(
        "--restart-schedule", action="store_true",
        help="with --resume: start the schedule again from the epochs done (warm restart of the learning rate)",
    )
    train.add_argument("--clipnorm", type=float)
    train.add_argument("--patience", type=int, help="stop after N epochs without a better val_loss (default 10)")
    train.add_argument(
        "--mixed-precision", action=argparse.BooleanOptionalAction,
        help="mixed bfloat16: faster on CPUs with AVX-512 BF16 or AMX, emulated and far slower elsewhere",
    )
    train.add_argument(
        "--frame-jitter", type=float, help="drop, and repeat, each training frame with this probability (default 0)"
    )
    train.add_argument("--shift-pixels", type=int, help="move each training clip's crop by up to N pixels (default 0)")
    train.add_argument(
        "--word-clips", type=float,
        help="add this many batches of single words (cut by the alignments) per batch of clips (default 0)",
    )
    train.add_argument(
        "--splice-words", type=float,
        help="swap each word of a training clip, with this probability, for the same word of another clip (default 0)",
    )
    train.add_argument(
        "--full-clip-fraction", type=float,
        help="share of batches on whole clips, the rest on windows around the words (default 0.25; 1: whole clips)",
    )
    train.add_argument(
        "--dropout", type=float,
        help="the rate of both Dropout layers while training (default 0.5, the reference's; off at inference)",
    )
    train.add_argument("--steps-per-epoch", type=int)
    train.add_argument("--pack", help="a .npz training pack (built from --data-dir when missing) or a compact pack dir")

    head = commands.add_parser(
        "retrain-head", help="retrain the BiLSTMs and softmax on frozen convolutions, with a loss term for the letter"
    )
    head.add_argument("--data-dir")
    head.add_argument("--pack", help="the .npz training pack (default OUT/cache/training_pack.npz, built when missing)")
    head.add_argument("--weights", default="models/lipnet.weights.h5", help="the network whose convolutions are kept")
    head.add_argument("--split", default="models/split.json")
    head.add_argument("--out", required=True, help="directory for lipnet.weights.h5, head_history.csv, head_recipe.json")
    head.add_argument("--epochs", type=int, help="default 50")
    head.add_argument("--learning-rate", type=float, help="Adam's, constant (default 1e-4)")
    head.add_argument("--batch-size", type=int, help="default 16")
    head.add_argument("--feature-dropout", type=float, help="dropout on the frozen features (default 0.3)")
    head.add_argument("--letter-weight", type=float, help="weight of the letter term beside CTC (default 3; 0: CTC only)")
    head.add_argument("--flip", action=argparse.BooleanOptionalAction, help="train on mirrored clips too (default on)")
    head.add_argument(
        "--mixed-precision", action=argparse.BooleanOptionalAction,
        help="compute the features in mixed bfloat16 (default on; the head trains in float32)",
    )
    head.add_argument("--seed", type=int, help="default 0")
    head.add_argument(
        "--augmented-views", type=int,
        help="extra views of the training clips, stretched in time, shifted and maybe mirrored (default 0)",
    )
    head.add_argument("--stretch", type=float, help="augmented views stretch the speech 1 ± up to this (default 0.1)")
    head.add_argument("--shift-pixels", type=int, help="and shift the crop by up to this many pixels (default 2)")

    pack = commands.add_parser("pack", help="write the compact (H.264) training pack that travels to a GPU machine")
    pack.add_argument("--data-dir")
    pack.add_argument("--npz", default="models/cache/training_pack.npz", help="the .npz pack (built when missing)")
    pack.add_argument("--out", required=True, help="directory for part*.mkv and index.json")
    pack.add_argument("--crf", type=int, default=0, help="0 = lossless (default); higher is smaller and lossy")
    pack.add_argument("--parts", type=int, default=1)

    download = commands.add_parser("download", help="fetch the reference data or checkpoint from Google Drive")
    download.add_argument("what", choices=("data", "checkpoint"))
    download.add_argument("--to", default=".")
    return parser


def main(argv=None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        from lipnet_core.quiet import load_backend_quietly

        load_backend_quietly()
        if arguments.command == "train":
            return _train(arguments)
        if arguments.command == "retrain-head":
            return _retrain_head(arguments)
        from lipnet_core import commands

        return getattr(commands, arguments.command)(arguments)
    except LipNetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _train(arguments) -> int:
    from lipnet_core.dataset import data_dir
    from lipnet_core.training import Recipe, epochs_trained, recipe_of_run, train_from_data_dir

    # Options are named as the Recipe fields they set; one not given is None and leaves the saved or default value.
    given = {field.name: getattr(arguments, field.name, None) for field in fields(Recipe)}
    if arguments.restart_schedule:
        given["schedule_start_epoch"] = epochs_trained(arguments.out)
    recipe = recipe_of_run(arguments.out, arguments.resume, **given)
    log = lambda message: print(message, flush=True)  # noqa: E731
    train_from_data_dir(data_dir(arguments.data_dir), arguments.out, recipe, arguments.resume, arguments.pack, log)
    return 0


def _retrain_head(arguments) -> int:
    from lipnet_core.dataset import data_dir, load_split
    from lipnet_core.head_training import HeadRecipe, retrain_head
    from lipnet_core.training import load_pack

    # Options are named as the HeadRecipe fields they set; one not given is None and keeps the default.
    given = {field.name: getattr(arguments, field.name) for field in fields(HeadRecipe)}
    recipe = HeadRecipe(**{name: value for name, value in given.items() if value is not None})
    log = lambda message: print(message, flush=True)  # noqa: E731
    pack_path = arguments.pack or Path(arguments.out) / "cache" / "training_pack.npz"
    pack = load_pack(data_dir(arguments.data_dir), pack_path, log)
    retrain_head(pack, load_split(arguments.split), arguments.weights, arguments.out, recipe, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
