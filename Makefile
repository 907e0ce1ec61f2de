# The two commands of the README: `make run` and `make test`. Everything else serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
SANDBOX_PORT ?= 5010

# Development defaults for `make run`: SQLite under instance/ and the local Twilio sandbox.
RUN_ENV := APP_ENV=development \
	SCHEDULER=$${SCHEDULER:-on} \
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} \
	TWILIO_API_BASE=$${TWILIO_API_BASE:-http://$(HOST):$(SANDBOX_PORT)}

.PHONY: run test lint bench install system-deps assets clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

# The Twilio Voice JavaScript SDK for the agent console's browser phone (npm + esbuild).
assets:
	bash scripts/build-assets.sh

run: $(STAMP) assets
	$(RUN_ENV) bash scripts/run.sh

# Two pytest-xdist workers by default (each with its own PostgreSQL database and port range, see
# tests/conftest.py and tests/ports.py): end-to-end tests mostly wait on sandbox time, so two share two
# cores well. PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 2

test: system-deps $(STAMP) assets
	bash scripts/with-postgres.sh $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Every benchmark on SQLite and on a private PostgreSQL (started as for `make test`), side by side.
# bench/peak_day.py (a compressed day on PostgreSQL) is run on its own: see the README.
bench: system-deps $(STAMP)
	bash scripts/with-postgres.sh $(BIN)/python bench/all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache node_modules static/vendor
