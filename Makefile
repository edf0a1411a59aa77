# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,postgres,dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## run the main job offline, then show it
	$(BIN)/sigilctl run ig-test-001
	$(BIN)/sigilctl show ig-test-001

test: $(STAMP)  ## the whole test suite, then the invariant suite
	$(BIN)/python -m pytest
	$(BIN)/sigilctl smoke

lint: $(STAMP)
	$(BIN)/ruff check sigilctl tests scripts
	$(BIN)/ruff format --check sigilctl tests scripts
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format sigilctl tests scripts
	$(BIN)/ruff check --fix sigilctl tests scripts

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
