#!/usr/bin/env bash
# Installs what a21import's demo and tests need on a fresh machine: the system Chromium (Debian
# package, never a browser download), a virtual environment and the Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the browser the tests and the demo drive; strace: the tests' audit of the CLI's sockets;
# postgresql: the agency store's tests start a throw-away cluster of it (never the machine's own).
MISSING=""
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  MISSING="$MISSING postgresql"
fi
if [ ! -x /usr/bin/chromium ] && ! command -v chromium >/dev/null 2>&1; then
  MISSING="$MISSING chromium"
fi
command -v strace >/dev/null 2>&1 || MISSING="$MISSING strace"
if [ -n "$MISSING" ]; then
  echo "Installing from the Debian packages:$MISSING…"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086  # one package name per word
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
