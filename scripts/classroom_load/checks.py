"""What the run left behind, and where it ran: files written (in the repository and anywhere outside the temporary
folder), tracebacks in the server log, the machine and its load."""

import os
import re
import subprocess
import tempfile
from pathlib import Path

from lipnet_core.machine import cpu_model

REPO_ROOT = Path(__file__).resolve().parents[2]


def machine_description() -> str:
    memory = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    total = f"{int(memory.group(1)) / 2**20:.1f} GiB" if memory else "unknown"
    return f"{len(os.sched_getaffinity(0))} cores (nproc), {cpu_model()}, {total} memory"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def repository_state() -> tuple[set[str], set[str]]:
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=REPO_ROOT, capture_output=True,
                            text=True, check=True).stdout
    return set(status.splitlines()), set(os.listdir(REPO_ROOT.parent))


def files_touched_since(started: float) -> list[str]:
    """Files in the repository (not .git, not .venv) modified after ``started`` (a time.time())."""
    touched = []
    for folder, subfolders, files in os.walk(REPO_ROOT):
        subfolders[:] = [name for name in subfolders if name not in (".git", ".venv")]
        for name in files:
            path = Path(folder) / name
            try:
                if path.stat().st_mtime >= started:
                    touched.append(str(path.relative_to(REPO_ROOT)))
            except OSError:
                continue
    return sorted(touched)


def written_outside_temp(marker: Path) -> list[str]:
    """Every file on this machine's root file system modified after ``marker`` was made, outside the temporary
    folders, /proc, /sys, /dev, /run and .git directories (``find / -xdev -newer MARKER``): what the run wrote
    anywhere it should not have, plus whatever else ran meanwhile."""
    pruned = ["/proc", "/sys", "/dev", "/run", tempfile.gettempdir(), "/var/tmp"]
    expression = [part for path in pruned for part in ("-path", path, "-o")] + ["-name", ".git"]
    found = subprocess.run(["find", "/", "-xdev", "(", *expression, ")", "-prune", "-o", "-type", "f", "-newer",
                            str(marker), "-print"], capture_output=True, text=True).stdout
    return sorted(found.splitlines())


def tracebacks(log_text: str) -> list[str]:
    """Each traceback in the server log: its first line after the header and its last line (the error)."""
    found = []
    lines = log_text.splitlines()
    for index, line in enumerate(lines):
        if "Traceback" in line:
            block = [line]
            for following in lines[index + 1 :]:
                block.append(following)
                if following and not following.startswith((" ", "\t")) and len(block) > 2:
                    break
            found.append("\n      ".join(block[:4] + (["...", block[-1]] if len(block) > 4 else [])))
    return found
