# newscrawl: the commands a newcomer needs (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format fixtures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The main job end to end on the bundled replica: serve it, crawl it twice.
demo: $(STAMP)
	$(BIN)/python -m newscrawl.demo

## Lint, format check and the whole test suite.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Rewrite tests/fixtures/expected/*.json from the current extraction (after an intended change).
fixtures: $(STAMP)
	$(BIN)/python -m tests.fixtures.regenerate

clean:
	rm -rf $(VENV) .replica output/demo output/demo-state
