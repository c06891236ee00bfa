#!/usr/bin/env bash
# Installs what is needed, then runs the built-in demo: a fixture iHestia, Chromium, a login
# through the app's form, and a period import with the live table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
