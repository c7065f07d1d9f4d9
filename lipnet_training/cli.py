"""``python -m lipnet_training {train,retrain-head,pack,model-card}``: how the published weights were made.

Errors a user can fix print one line on stderr and exit with status 2 (as ``python -m lipnet_core`` does).
"""

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lipnet_core.cli import run_command  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lipnet_training", description="Train LipNet on GRID clips.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train on GRID (resumable)")
    train.add_argument("--data-dir")
    train.add_argument("--speaker", default="s1", help="the GRID speaker whose aligned clips build the pack (s1)")
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
        "--full-clip-fraction", type=float,
        help="share of batches on whole clips, the rest on windows around the words (default 0.25; 1: whole clips)",
    )
    train.add_argument("--steps-per-epoch", type=int)
    train.add_argument("--pack", help="a .npz training pack (built from --data-dir when missing) or a compact pack dir")

    head = commands.add_parser(
        "retrain-head", help="retrain the BiLSTMs and softmax on frozen convolutions, with a loss term for the letter"
    )
    head.add_argument("--data-dir")
    head.add_argument("--speaker", default="s1", help="the GRID speaker whose aligned clips build the pack (s1)")
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

    pack = commands.add_parser("pack", help="write the compact (H.264) training pack that travels to a GPU machine")
    pack.add_argument("--data-dir")
    pack.add_argument("--speaker", default="s1", help="the GRID speaker whose aligned clips build the pack (s1)")
    pack.add_argument("--npz", default="models/cache/training_pack.npz", help="the .npz pack (built when missing)")
    pack.add_argument("--out", required=True, help="directory for part*.mkv and index.json")
    pack.add_argument("--crf", type=int, default=0, help="0 = lossless (default); higher is smaller and lossy")
    pack.add_argument("--parts", type=int, default=1)

    card = commands.add_parser("model-card", help="write MODEL_CARD.md from a run's files")
    card.add_argument("--out", default="models", help="the run's directory (default models)")
    return parser


def _log(message: str) -> None:
    print(message, flush=True)


def train_command(arguments) -> int:
    from lipnet_core.dataset import data_dir
    from lipnet_training.fit import Recipe, epochs_trained, recipe_of_run, train_from_data_dir

    # Options are named as the Recipe fields they set; one not given is None and leaves the saved or default value.
    given = {field.name: getattr(arguments, field.name, None) for field in fields(Recipe)}
    if arguments.restart_schedule:
        given["schedule_start_epoch"] = epochs_trained(arguments.out)
    recipe = recipe_of_run(arguments.out, arguments.resume, **given)
    train_from_data_dir(data_dir(arguments.data_dir), arguments.out, recipe, arguments.resume, arguments.pack, _log,
                        arguments.speaker)
    return 0


def retrain_head_command(arguments) -> int:
    from lipnet_core.dataset import data_dir, load_split
    from lipnet_training.fit import load_pack
    from lipnet_training.head import HeadRecipe, retrain_head

    # Options are named as the HeadRecipe fields they set; one not given is None and keeps the default.
    given = {field.name: getattr(arguments, field.name) for field in fields(HeadRecipe)}
    recipe = HeadRecipe(**{name: value for name, value in given.items() if value is not None})
    pack_path = arguments.pack or Path(arguments.out) / "cache" / "training_pack.npz"
    pack = load_pack(data_dir(arguments.data_dir), pack_path, _log, arguments.speaker)
    retrain_head(pack, load_split(arguments.split), arguments.weights, arguments.out, recipe, _log)
    return 0


def pack_command(arguments) -> int:
    from lipnet_core.dataset import data_dir
    from lipnet_training.compact_pack import compare_packs, read_compact_pack, write_compact_pack
    from lipnet_training.fit import load_pack

    original = load_pack(data_dir(arguments.data_dir), arguments.npz, speaker=arguments.speaker)
    directory = write_compact_pack(original, arguments.out, crf=arguments.crf, parts=arguments.parts)
    difference = compare_packs(original, read_compact_pack(directory))
    size = sum(path.stat().st_size for path in Path(directory).iterdir()) / 2**20
    print(f"{len(original)} clips in {directory} ({size:.1f} MiB); largest difference {difference['max_grey']} grey "
          f"levels (mean {difference['mean_grey']:.3f}), {difference['max_input']:.4f} in normalised input")
    return 0


def model_card_command(arguments) -> int:
    from lipnet_training.card import write_model_card

    print(f"wrote {write_model_card(arguments.out)}")
    return 0


COMMANDS = {"train": train_command, "retrain-head": retrain_head_command, "pack": pack_command,
            "model-card": model_card_command}


def main(argv=None) -> int:
    arguments = build_parser().parse_args(argv)
    return run_command(COMMANDS[arguments.command], arguments)


if __name__ == "__main__":
    sys.exit(main())
