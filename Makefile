# The two commands of the README, and a few conveniences.
.PHONY: run test bench bench-peers lint format messages screenshots

run:  ## set up and start the site on SQLite, in-memory channels, the demo model
	scripts/run.sh

test:  ## set up and run the whole test suite (SQLite, then PostgreSQL + Redis)
	scripts/test.sh

bench:  ## run the benchmark (see BENCHMARKS.md)
	scripts/setup.sh bench
	.venv/bin/python -m bench.run

bench-peers:  ## the same with LiteLLM, Open WebUI and a bare forwarder side by side (installs the peers the first time)
	scripts/setup.sh bench
	.venv/bin/python -m bench.run --peers --forwarder

lint:  ## ruff (lint and format) and mypy (types of chat/ and chatsite/)
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

messages:  ## refresh and compile the translations
	.venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=bench
	.venv/bin/python manage.py compilemessages --ignore=.venv

screenshots:  ## take the README's screenshots again (docs/screenshots/)
	scripts/setup.sh dev
	.venv/bin/python scripts/screenshots.py
