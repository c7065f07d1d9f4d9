"""The app's own server for the end-to-end tests: `streamlit run app.py` on a free port."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "scripts"))  # the load test's server helpers, shared with these tests

from classroom_load.server import free_port, stop_server, wait_for_health  # noqa: E402


@pytest.fixture
def server(grid_dir, tmp_path, request):
    """A fresh `streamlit run app.py` on a free port; yields (base url, start time); always terminated. Indirect
    parametrisation adds command-line options (``@pytest.mark.parametrize("server", [[...]], indirect=True)``)."""
    port = free_port()
    environment = dict(os.environ, LIPNET_DATA_DIR=str(grid_dir), TF_CPP_MIN_LOG_LEVEL="2", LIPNET_ADAPT_EPOCHS="2")
    environment.pop("LIPNET_WEIGHTS", None)
    log = (tmp_path / "streamlit.log").open("w")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *getattr(request, "param", [])],
        cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_for_health(base_url, process, timeout=120.0)
        yield base_url, started
    finally:
        stop_server(process)
        log.close()
