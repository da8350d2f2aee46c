# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: setup demo dev test lint clean

$(BIN)/drift-assets: setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/drift-assets

# Backfill every month of the generated data, run the drift sensor once, retrain on drift.
demo: setup
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/drift-assets backfill

# The Dagster UI on the instance that `make demo` used.
dev: setup
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/dagster dev -w workspace.yaml

test: setup
	$(BIN)/ruff check drift_assets drift_assets_tests benchmarks
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check drift_assets drift_assets_tests benchmarks

clean:
	rm -rf data .pytest_cache
