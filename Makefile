# make run   — sets up .venv on first use, then serves the app (SQLite + embedded Redis)
# make test  — sets up .venv on first use, then runs every tier of tests/ (make test ARGS="-k settings -x")
# make test-fast — the unit and api tiers only (pytest -m "unit or api"): no worker, server or browser
# make lint  — ruff (every noqa with its reason beside it), import-linter's contracts and the import-cycle check
# make bench — runs every benchmark in bench/ (table, JSON in bench/results/); make bench-quick: under 2 minutes
#
# torch is installed first and pinned, so pip never resolves an unpinned torch on its own
# (which would pull a multi-GB CUDA build). GPU users: `make TORCH_VERSION=2.x.y run`, or
# install the torch build they want into .venv before the first `make`: an importable torch is kept.

PYTHON ?= python3
TORCH_VERSION ?= 2.13.0
VENV := .venv
ARGS ?=

.PHONY: run test test-fast lint bench bench-quick

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -c 'import torch' 2>/dev/null || $(VENV)/bin/pip install torch==$(TORCH_VERSION)
	$(VENV)/bin/pip install -e '.[test]'
	touch $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/python scripts/run.py

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest $(ARGS)

test-fast: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -m "unit or api" $(ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	@if grep -rnE --include='*.py' --exclude-dir=$(VENV) '#\s*noqa:\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*\s*$$' .; then echo 'a noqa needs its reason beside it: # noqa: E402 (why)'; exit 1; fi
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(VENV)/bin/python scripts/check_import_cycles.py

bench: $(VENV)/.installed
	$(VENV)/bin/python bench/run.py $(ARGS)

bench-quick: $(VENV)/.installed
	$(VENV)/bin/python bench/run.py --quick $(ARGS)
