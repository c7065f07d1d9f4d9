"""The app's own server for the end-to-end tests: `streamlit run app.py` on a free port."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(base_url: str, server: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not answer at {base_url} within {timeout:.0f} s")


@pytest.fixture
def server(grid_dir, tmp_path):
    """A fresh `streamlit run app.py` on a free port; yields (base url, start time); always terminated."""
    port = free_port()
    environment = dict(os.environ, LIPNET_DATA_DIR=str(grid_dir), TF_CPP_MIN_LOG_LEVEL="2", LIPNET_ADAPT_EPOCHS="2")
    environment.pop("LIPNET_WEIGHTS", None)
    log = (tmp_path / "streamlit.log").open("w")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_for_health(base_url, process)
        yield base_url, started
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
