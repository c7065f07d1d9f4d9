"""Files written whole: training outputs are large and the run may be killed at any moment."""

from pathlib import Path


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
