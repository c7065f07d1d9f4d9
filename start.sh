#!/usr/bin/env bash
# Install what the app needs into .venv (made on first use) and start it: ./start.sh [streamlit options]
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt -e .
if [ -z "${LIPNET_DATA_DIR:-}" ] && [ ! -d data/s1 ] && [ -d ../shared/grid/s1 ]; then
  export LIPNET_DATA_DIR="$(cd ../shared/grid && pwd)"
fi
# Fewer malloc arenas: the server's many session threads otherwise keep memory freed after a class (README).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec .venv/bin/python -m streamlit run app.py "$@"
