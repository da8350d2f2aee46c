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

# The demo and the UI run the recommended mode (README, "Alerts people trust"): each month
# against the same month a year earlier, calibrated thresholds. The environment overrides it;
# without make, the project's default is Evidently's semantics against a fixed reference.
demo dev: export DRIFT_REFERENCE ?= seasonal
demo dev: export DRIFT_THRESHOLDS ?= calibrated

# A first model on the reference, every month of the generated data, the drift sensor once,
# a retrain on drift.
demo: setup
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/drift-assets backfill --train-first

# The Dagster UI on the instance that `make demo` used, and the reports its links open.
dev: setup
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/drift-assets reports & trap 'kill $$!' EXIT INT TERM; \
	$(BIN)/dagster dev -w workspace.yaml

test: setup
	$(BIN)/ruff check drift_assets drift_assets_tests benchmarks
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check drift_assets drift_assets_tests benchmarks

clean:
	rm -rf data .pytest_cache
