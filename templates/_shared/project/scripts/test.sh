#!/bin/sh
# The tests, exactly as CI and TAP's testing supply chain (config/test-pipeline.yaml) run them.
# First installs requirements-test.txt with pip; INSTALL_REQUIREMENTS=false skips that where the pinned
# requirements are already installed. Arguments go to pytest: sh scripts/test.sh -x -q
set -eu
cd "$(dirname "$0")/.."
case "${INSTALL_REQUIREMENTS:-true}" in
    true) python -m pip install --disable-pip-version-check --requirement requirements-test.txt ;;
    false) ;;
    *) echo "error: INSTALL_REQUIREMENTS must be true or false, not '${INSTALL_REQUIREMENTS}'" >&2; exit 2 ;;
esac
exec python -m pytest "$@"
