# newscrawl: the commands a newcomer needs (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format fixtures spam-eval faults dedup-check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The main job end to end on the bundled replica: serve it, crawl it twice.
demo: $(STAMP)
	$(BIN)/python -m replica.demo

## Lint, format check, type check and the whole test suite.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
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

## Precision and recall of the link-spam detector per form, on a generated labeled corpus.
spam-eval: $(STAMP)
	$(BIN)/python -m replica.spam_corpus eval

## Every fault the replica can inject, and what the crawler made of it (a table).
faults: $(STAMP)
	$(BIN)/python -m replica.faults --jobs 2

## Duplicates end to end: a replica with exact and near copies, crawled twice; copies emitted
## and stories lost (TEXTS=file.jsonl builds it from real texts; exit 1 if a target is missed).
dedup-check: $(STAMP)
	$(BIN)/python -m replica dedup-check $(if $(TEXTS),--texts $(TEXTS))

## Cost per page, per scheduled run, memory: ecns against a minimal spider, one run (< 10 min).
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .replica output/demo output/demo-state
