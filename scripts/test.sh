#!/usr/bin/env bash
# Installs what is needed, then runs the whole test suite (unit and integration).
# The suite runs in parallel workers (pytest-xdist; A21IMPORT_TEST_WORKERS, default 4), each with its own
# Chromium and PostgreSQL; the tests that send signals at moments measured from outside (marked serial) run
# alone after.
# With arguments: exactly those tests, in one process (e.g. scripts/test.sh tests/test_core.py -k save).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Compiled modules are kept between the CLI's hundreds of runs (some machines set PYTHONDONTWRITEBYTECODE).
unset PYTHONDONTWRITEBYTECODE
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest -q "$@"
fi
status=0
.venv/bin/python -m pytest -q -n "${A21IMPORT_TEST_WORKERS:-4}" -m "not serial" || status=$?
# shellcheck disable=SC2046  # one file name per word
.venv/bin/python -m pytest -q -m serial $(grep -l "mark.serial" tests/test_*.py) || status=$?
exit "$status"
