#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what it needs (a virtual environment with the
# pinned requirements; for the browser tests Debian's Chromium and axe-core from npm), then runs pytest.
# Extra arguments go to pytest, e.g. `bash run_tests.sh -k api`.
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

# axe-core (the browser tests' accessibility checker) from the npm registry, pinned, into a git-ignored folder.
AXE_VERSION=4.10.3
if [ "$(cat .cache/axe/version 2>/dev/null)" != "$AXE_VERSION" ]; then
  if ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm) >/dev/null
    else
      sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm' >/dev/null
    fi
  fi
  npm install --prefix .cache/axe --no-audit --no-fund --silent "axe-core@$AXE_VERSION"
  echo "$AXE_VERSION" > .cache/axe/version
fi

export METADEMO_DATA="${METADEMO_DATA:-$(cd .. && pwd)/shared/data}"
export GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python -m pytest "$@"
