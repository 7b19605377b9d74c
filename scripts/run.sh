#!/usr/bin/env bash
# Set up and start the site on its embedded defaults: SQLite, the in-process channel layer
# and the offline demo model. HOST and PORT choose where it listens (127.0.0.1:8000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/python manage.py migrate --noinput
echo "Open http://${HOST:-127.0.0.1}:${PORT:-8000}/ and sign up."
echo "First administrator: .venv/bin/python manage.py createsuperuser"
exec .venv/bin/python -m chatsite.serve -b "${HOST:-127.0.0.1}" -p "${PORT:-8000}" chatsite.asgi:application
