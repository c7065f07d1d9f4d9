"""A session's own files on a server many sessions share: recordings and adapted weights.

They live in a :class:`SessionWorkspace` (a private temporary directory) that is removed when the session ends, or
at the latest ``WORKSPACE_LIFETIME_SECONDS`` after it was made (:func:`remove_stale_workspaces`).
"""

import shutil
import tempfile
import time
import weakref
from pathlib import Path

WORKSPACE_PREFIX = "lipnet-session-"
WORKSPACE_LIFETIME_SECONDS = 3600


class SessionWorkspace:
    """A private temporary directory for one browser session's recordings and adapted weights.

    Files inside are named by the program (``prompt_03.mp4``), never by a user. The directory is removed by
    :meth:`remove`, when the object is garbage-collected (the session ended), or by :func:`remove_stale_workspaces`.
    """

    def __init__(self, root: str | Path | None = None):
        self.path = Path(tempfile.mkdtemp(prefix=WORKSPACE_PREFIX, dir=root))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def file(self, name: str) -> Path:
        """A path inside the workspace for a program-chosen ``name`` (letters, digits, ``_``, ``.`` and ``-``)."""
        if not name or name.startswith(".") or not all(character.isalnum() or character in "_.-" for character in name):
            raise ValueError(f"not a workspace file name: {name!r}")
        return self.path / name

    def remove(self) -> None:
        self._finalizer()

    @property
    def removed(self) -> bool:
        return not self._finalizer.alive


def remove_stale_workspaces(root: str | Path | None = None, max_age_seconds: float = WORKSPACE_LIFETIME_SECONDS) -> int:
    """Remove session workspaces older than ``max_age_seconds`` (left by sessions whose end was never seen)."""
    root = Path(root or tempfile.gettempdir())
    removed = 0
    for directory in root.glob(f"{WORKSPACE_PREFIX}*"):
        try:
            if directory.is_dir() and time.time() - directory.stat().st_mtime > max_age_seconds:
                shutil.rmtree(directory, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed
