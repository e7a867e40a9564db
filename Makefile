# dlradar: `make run` sets up and runs the main job, `make test` sets up and runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck unit dashboard mutation clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/dlradar run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

test: lint typecheck unit

# Mutation testing of the contract modules (slow: not part of `make test`); GROUPS="stats config"
# runs some groups only. Scores per module; survivors by name (tests/mutation/run.py).
mutation: install
	$(BIN)/python tests/mutation/run.py $(GROUPS)

dashboard: install
	$(BIN)/dlradar dashboard

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache mutants
