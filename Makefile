# Two entry points: `make demo` and `make test`. Both build the same .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A pinned CPU torch goes in first: an unpinned one would pull a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: demo test test-fast lint typecheck check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet $(TORCH) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet $(TORCH) -e ".[dev]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(BIN)/flarewatch demo

test: $(VENV)/.installed-dev
	$(BIN)/lint-imports
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

# Everything that neither loads the real model nor starts a server or browser: under a minute.
test-fast: $(VENV)/.installed-dev
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "not slow and not browser" -q -n auto --dist loadfile

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy flarewatch

check: lint typecheck test

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
