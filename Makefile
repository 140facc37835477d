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

## Install and start Redis, PostgreSQL and Chromium if needed, then run every test on
## SQLite and on PostgreSQL at once (scripts/test_both.sh)
test: $(STAMP) services
	bash scripts/test_both.sh $(PYTEST_ARGS)

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

# One script per area, each printing its figures against a baseline measured in the same run.
BENCH_SCRIPTS ?= topics search cooking reputation support_queue digest billing dashboard \
	github_webhooks github_import stackoverflow

bench: $(STAMP)
	bash scripts/services.sh bench-tools
	$(BIN)/python bench/run.py
	@for script in $(BENCH_SCRIPTS); do \
		echo "== bench/$$script.py"; $(BIN)/python bench/$$script.py || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
