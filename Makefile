# Two commands on a fresh machine with python3, make and git:
#   make demo   set up and run the synthetic action day and outlet takedown on SQLite
#               (make demo DEMO_ARGS="--size small": the same story on ~250 sightings)
#   make test   set up and run the whole test suite (ruff, mypy, pytest on SQLite and PostgreSQL)
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: setup setup-dev demo test lint typecheck pytest services browser bench clean cluster

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# One environment for both: setup installs what the demo needs and, being inexact, leaves the
# dev group (pytest, ruff, mypy...) in place when `make test` installed it before.
# Bytecode once, at setup: where PYTHONDONTWRITEBYTECODE=1 is set (as on these machines) and
# uv installs none, every command would compile SQLAlchemy, pydantic & co. from source at each
# start (a command that opens the store: 1.5-1.9 s instead of 0.6 s). compileall skips what is
# current, so a re-run costs ~2 s.
COMPILE := .venv/bin/python -m compileall -q -j 0 .venv/lib src > /dev/null

setup: $(UV)
	$(UV) sync --frozen --no-dev --inexact
	$(COMPILE)

setup-dev: $(UV)
	$(UV) sync --frozen
	$(COMPILE)

DEMO_ARGS ?=

demo: setup
	.venv/bin/takedown demo $(DEMO_ARGS)

# Local multi-process start: API processes + workers on the local PostgreSQL (honcho, Procfile).
CLUSTER_DB ?= postgresql+psycopg://postgres@127.0.0.1:5432/takedown_cluster
WORKERS ?= 2
cluster: setup-dev services
	-psql "postgresql://postgres@127.0.0.1:5432/postgres" -qc "CREATE DATABASE takedown_cluster" 2>/dev/null
	TAKEDOWN_DATABASE_URL=$(CLUSTER_DB) .venv/bin/takedown db upgrade
	TAKEDOWN_DATABASE_URL=$(CLUSTER_DB) .venv/bin/honcho start -f Procfile -c api=1,worker=$(WORKERS)

services:
	bash scripts/services.sh

browser:
	bash scripts/browser.sh
	bash scripts/pdftools.sh

lint: setup-dev
	.venv/bin/ruff check src tests bench scripts
	.venv/bin/ruff format --check src tests bench scripts

typecheck: setup-dev
	.venv/bin/mypy src

pytest: setup-dev services browser
	.venv/bin/pytest

test: lint typecheck pytest

clean:
	rm -rf .venv $(TOOLS) takedown-data .pytest_cache .mypy_cache .ruff_cache
