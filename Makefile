# The two commands a newcomer needs are `make run` and `make test`; the rest is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.PHONY: run test check lint format typecheck imports bench dev clean migrate demo

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "finagency needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,local-llm]"
	@touch $@ $(STAMP_RUN)

## run: serve the whole product on http://127.0.0.1:8000 (SQLite under ./data, demo data on first start)
run: $(STAMP_RUN)
	$(BIN)/finagency serve --demo

## test: run every test (unit, integration on SQLite and, when configured, PostgreSQL; end to end)
test: $(STAMP_DEV)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP_DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

imports: $(STAMP_DEV)
	$(BIN)/lint-imports

## check: what CI runs besides the tests: lint, types, import contracts, then the tests
check: lint typecheck imports test

migrate: $(STAMP_RUN)
	$(BIN)/finagency db upgrade

demo: $(STAMP_RUN)
	$(BIN)/finagency demo

bench: $(STAMP_DEV)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

dev: $(STAMP_DEV)
	$(BIN)/pre-commit install

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
