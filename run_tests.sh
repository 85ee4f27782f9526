#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what it needs (a virtual environment with the
# pinned requirements, Debian's Chromium for the browser tests), then runs pytest. Extra arguments go
# to pytest, e.g. `bash run_tests.sh -k api`.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium' >/dev/null
  fi
fi

export METADEMO_DATA="${METADEMO_DATA:-$(cd .. && pwd)/shared/data}"
export GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python -m pytest "$@"
