#!/usr/bin/env bash
# Run the whole test suite against real services: PostgreSQL is started here, MLflow servers and
# Jupyter kernels by the tests themselves. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_DATABASE_URL=$(scripts/postgres.sh)
export TEST_DATABASE_URL
.venv/bin/tapml build --check
# This repository's own code: lint, format and strict types (the generated projects are linted by the tests).
.venv/bin/ruff check generator tests scripts benchmarks
.venv/bin/ruff format --check generator tests scripts benchmarks
.venv/bin/mypy
# Work stealing: the deep tier's cases take minutes each, the rest seconds. TAPML_TEST_WORKERS=0 runs in one process.
exec .venv/bin/python -m pytest -n "${TAPML_TEST_WORKERS:-2}" --dist worksteal --durations=15 "$@"
