# Set-up and everyday tasks. `make demo` and `make test` work on a fresh machine with
# Python 3.11+ and access to the package registry.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e . pytest hypothesis ruff mypy
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash samples/local-testnet.sh

test: $(STAMP)
	$(BIN)/ruff check inferctl tests tools
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check inferctl tests tools
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m inferctl.bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
