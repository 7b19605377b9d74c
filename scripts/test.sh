#!/usr/bin/env bash
# Set up and run the whole test suite, twice: on the embedded defaults (SQLite, in-memory
# channel layer, one daphne) and on PostgreSQL + Redis (with the several-process tests).
# Installs what is missing: the virtualenv and its packages, Debian's Chromium for the
# browser tests, GNU gettext for the translation tests (tests/i18n/), PostgreSQL and Redis
# (started if they are not running).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x /usr/bin/chromium ] || ! command -v xgettext >/dev/null; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium gettext >/dev/null
fi
scripts/services.sh

echo "== lint and types"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

echo "== suite on SQLite and the in-memory channel layer"
env -u DATABASE_URL -u REDIS_URL .venv/bin/pytest -m "not scaleout" "$@"

echo "== suite on PostgreSQL and Redis"
DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}" \
REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}" \
    .venv/bin/pytest "$@"
