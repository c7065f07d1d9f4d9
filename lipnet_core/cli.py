"""``python -m lipnet_core {predict,evaluate,summary,download}``: reading clips with the published network.

Training it is another package's job: ``python -m lipnet_training {train,retrain-head,pack,model-card}``.

Errors a user can fix print one line on stderr and exit with status 2; ``--json`` prints one JSON object on stdout.
"""

import argparse
import os
import sys

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
    arguments = _parser().parse_args(argv)

    def command(arguments):
        from lipnet_core import commands

        return getattr(commands, arguments.command)(arguments)

    return run_command(command, arguments)


if __name__ == "__main__":
    sys.exit(main())
