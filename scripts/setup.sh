#!/usr/bin/env bash
# Create the virtualenv and install the project's dependencies (idempotent, quick when done).
# Usage: scripts/setup.sh [extra]   extra: "" for the site, "dev" for the tests, "bench".
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
    if ! dpkg -s "$@" >/dev/null 2>&1; then
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
    fi
}

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3)." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)-${extra:-base}"
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".${extra:+[$extra]}"
    touch "$stamp"
fi
