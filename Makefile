# The README's commands. Each target sets up what it needs on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := -e './core[postgres]' -e './sdk[testing]' -e ./plugins/csv -e ./plugins/rewards_catalog
DEV := 'pytest>=8' 'respx>=0.21' 'jsonschema>=4' 'ruff>=0.5' 'mypy>=1.10' types-PyYAML
DEMO_DIR ?= .premia-demo

.PHONY: demo test lint bench clean setup

setup: $(STAMP)

$(STAMP): Makefile core/pyproject.toml sdk/pyproject.toml plugins/csv/pyproject.toml plugins/rewards_catalog/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(PACKAGES) $(DEV)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/premia demo --dir $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_sync.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench/out
