"""``python -m lipnet_core {predict,evaluate,precompute,adapt,summary,download}``: reading clips, and teaching the
network a new face.

Training it is another package's job: ``python -m lipnet_training {train,retrain-head,pack,model-card}``.

Errors a user can fix print one line on stderr and exit with status 2; ``--json`` prints one JSON object on stdout.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lipnet_core.errors import LipNetError  # noqa: E402
from lipnet_core.options import CROP_MODES, DECODERS  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lipnet_core", description="LipNet lip reading on GRID clips.")
    commands = parser.add_subparsers(dest="command", required=True)

    predict = commands.add_parser("predict", help="read the sentence spoken in a clip")
    predict.add_argument("clip")
    predict.add_argument("--weights", help="a .weights.h5 file or a TensorFlow checkpoint prefix")
    predict.add_argument("--decoder", choices=DECODERS, default="greedy")
    predict.add_argument("--crop", choices=CROP_MODES, default="auto")
    predict.add_argument("--json", action="store_true")

    evaluate = commands.add_parser("evaluate", help="WER / CER / sentence accuracy over clips with alignments")
    evaluate.add_argument("--data-dir", help="GRID data directory (default $LIPNET_DATA_DIR or ./data)")
    evaluate.add_argument("--clips", help="a file of clip ids (one per line) or a split.json (its test clips)")
    evaluate.add_argument(
        "--split",
        help="which list of a split.json to evaluate (default test; alone, of the project's models/split.json)",
    )
    evaluate.add_argument("--speaker", default="s1", help="which GRID speaker's clips (default s1)")
    evaluate.add_argument(
        "--crop", choices=CROP_MODES, default="grid",
        help="how the mouth is found (default grid: speaker 1's fixed box; use detected for other speakers)",
    )
    evaluate.add_argument("--weights")
    evaluate.add_argument("--readings", help="decode the network outputs stored by precompute (a models/readings/"
                          "*.npz of these weights) instead of running the network again on those clips")
    evaluate.add_argument("--output", help="also write the metrics JSON to this file")
    evaluate.add_argument("--json", action="store_true")

    adapt = commands.add_parser("adapt", help="fine-tune the network to a new speaker from a few of their clips")
    adapt.add_argument("clip_files", nargs="*", metavar="CLIP", help="clip files named by their GRID id (bbaf2n.mp4)")
    adapt.add_argument("--data-dir", help="GRID data directory (default $LIPNET_DATA_DIR or ./data)")
    adapt.add_argument("--speaker", help="adapt to this GRID speaker's clips in --data-dir (e.g. s4)")
    adapt.add_argument("--clips", help="a file of clip ids (one per line): only these clips of --speaker")
    adapt.add_argument("--out", required=True, help="directory for lipnet.weights.h5 and adaptation.json")
    adapt.add_argument("--weights", help="the network to start from (default models/lipnet.weights.h5)")
    adapt.add_argument("--crop", choices=CROP_MODES, default="detected")
    adapt.add_argument("--epochs", type=int, help="default 75")
    adapt.add_argument("--learning-rate", type=float, help="Adam's, constant (default 1e-3)")
    adapt.add_argument("--batch-size", type=int, help="default 8")
    adapt.add_argument(
        "--held-aside", type=int, help="clips kept aside in a first run, to measure it (default 4; 0: one run)"
    )
    adapt.add_argument("--mirrored", action=argparse.BooleanOptionalAction, help="train on mirrored clips too")
    adapt.add_argument("--read-mirrored", action=argparse.BooleanOptionalAction,
                       help="mark the adapted weights so that they read each clip and its mirror image (default yes)")
    adapt.add_argument("--letter-weight", type=float, help="× the letter term beside CTC (default 3; 0: CTC alone)")
    adapt.add_argument("--seed", type=int, help="default 0")
    adapt.add_argument("--json", action="store_true", help="print adaptation.json instead of a summary")

    precompute = commands.add_parser(
        "precompute", help="run the network once over every GRID clip and store its outputs, so the app reads instantly"
    )
    precompute.add_argument("--data-dir", help="GRID data directory (default $LIPNET_DATA_DIR or ./data)")
    precompute.add_argument("--speaker", default="s1", help="which GRID speaker's clips (default s1)")
    precompute.add_argument("--crop", choices=CROP_MODES, default="grid", help="default grid (speaker 1's fixed box)")
    precompute.add_argument("--weights", help="a .weights.h5 file (default models/lipnet.weights.h5)")
    precompute.add_argument("--out", help="default models/readings/<the weights' sha256, first 16>.npz")

    summary = commands.add_parser("summary", help="the layer table and parameter counts")
    summary.add_argument("--json", action="store_true")

    download = commands.add_parser("download", help="fetch the reference data or checkpoint from Google Drive")
    download.add_argument("what", choices=("data", "checkpoint"))
    download.add_argument("--to", default=".")
    return parser


def run_command(command, arguments) -> int:
    """Run ``command(arguments)`` with the backend loaded quietly; a :class:`LipNetError` becomes one line on stderr
    and exit status 2."""
    try:
        from lipnet_core.quiet import load_backend_quietly

        load_backend_quietly()
        return command(arguments)
    except LipNetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def main(argv=None) -> int:
    arguments = build_parser().parse_args(argv)

    def command(arguments):
        from lipnet_core import commands

        return getattr(commands, arguments.command)(arguments)

    return run_command(command, arguments)


if __name__ == "__main__":
    sys.exit(main())
