# The two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FORUM_PORT ?= 8000

.PHONY: run test test-sqlite test-postgres services lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

## Serve the forum on SQLite with a demo project at http://127.0.0.1:$(FORUM_PORT)
run: $(STAMP)
	$(BIN)/forum migrate --quiet
	$(BIN)/forum demo
	$(BIN)/forum serve

## Install and start Redis, PostgreSQL and Chromium if needed, then run every test
test: $(STAMP) services
	$(MAKE) --no-print-directory test-sqlite test-postgres

services:
	bash scripts/services.sh start

test-sqlite: $(STAMP)
	FORUM_TEST_DATABASE=sqlite $(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: $(STAMP)
	FORUM_TEST_DATABASE=postgres $(BIN)/pytest -q -m "not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check forum plugins tests bench
	$(BIN)/mypy forum plugins
	$(BIN)/lint-imports

bench: $(STAMP)
	bash scripts/services.sh bench-tools
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
