#!/usr/bin/env bash
# Install the app and the test tools into .venv (made on first use) and run the tests: ./test.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -e .
if [ -z "${LIPNET_DATA_DIR:-}" ] && [ ! -d data/s1 ] && [ -d ../shared/grid/s1 ]; then
  export LIPNET_DATA_DIR="$(cd ../shared/grid && pwd)"
fi
echo "LIPNET_DATA_DIR=${LIPNET_DATA_DIR:-<unset: tests on real clips will skip>}"
exec .venv/bin/python -m pytest "$@"
