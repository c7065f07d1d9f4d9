"""Where the project's files are, their hashes, and files written whole.

Every project path is declared here once; the CLI, the app and training all take them from this module.
"""

import hashlib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
DEFAULT_WEIGHTS = MODELS_DIR / "lipnet.weights.h5"
SPLIT_PATH = MODELS_DIR / "split.json"
METRICS_PATH = MODELS_DIR / "metrics.json"
TRAIN_METRICS_PATH = MODELS_DIR / "metrics_train.json"  # the same evaluation on the clips it trained on
HISTORY_NAME = "history.csv"
HEAD_HISTORY_NAME = "head_history.csv"
HISTORY_PATH = MODELS_DIR / HISTORY_NAME
HEAD_HISTORY_PATH = MODELS_DIR / HEAD_HISTORY_NAME
PUBLISHED_RESULTS_PATH = PROJECT_ROOT / "assets" / "published_results.csv"
UNSEEN_METRICS_GLOB = "metrics_s*.json"  # evaluate --speaker sN --output models/metrics_sN.json
ADAPTATION_STUDY_PATH = MODELS_DIR / "adaptation_study.json"
MODEL_STATE_PATH = MODELS_DIR / "state.json"  # a person's words on the model, and which epoch is published


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def display_path(path: str | Path) -> str:
    """The path relative to the project when it lies inside it (so committed metrics name ``models/...``)."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def replace_whole(path, write) -> None:
    """Call ``write(temporary)`` for a sibling ``<name>.partial.<suffixes>``, then rename it over ``path``.

    A kill leaves the old file or the new one, never half of one. The suffixes stay last because Keras and numpy check
    them (``.weights.h5``, ``.keras``, ``.npz``), and ``.partial`` is what ``.gitignore`` leaves out.
    """
    path = Path(path)
    head, _, suffixes = path.name.partition(".")
    temporary = path.with_name(f"{head}.partial.{suffixes}" if suffixes else f"{head}.partial")
    write(temporary)
    temporary.replace(path)
