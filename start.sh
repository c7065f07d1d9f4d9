#!/usr/bin/env bash
# Install what the app needs and start it: ./start.sh [streamlit options]
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install -q --disable-pip-version-check -r requirements.txt
if [ -z "${LIPNET_DATA_DIR:-}" ] && [ ! -d data/s1 ] && [ -d ../shared/grid/s1 ]; then
  export LIPNET_DATA_DIR="$(cd ../shared/grid && pwd)"
fi
exec python3 -m streamlit run app.py "$@"
