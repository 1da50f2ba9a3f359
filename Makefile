# make run   — sets up .venv on first use, then serves the app (SQLite + embedded Redis)
# make test  — sets up .venv on first use, then runs the whole test suite (make test ARGS="-k settings -x")
# make bench — runs every benchmark in bench/ (table, JSON in bench/results/); make bench-quick: under 2 minutes
#
# torch is installed first and pinned, so pip never resolves an unpinned torch on its own
# (which would pull a multi-GB CUDA build). GPU users: `make TORCH_VERSION=2.x.y run`, or
# install the torch build they want into .venv before the first `make`: an importable torch is kept.

PYTHON ?= python3
TORCH_VERSION ?= 2.13.0
VENV := .venv
ARGS ?=

.PHONY: run test bench bench-quick

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -c 'import torch' 2>/dev/null || $(VENV)/bin/pip install torch==$(TORCH_VERSION)
	$(VENV)/bin/pip install -e '.[test]'
	touch $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/python scripts/run.py

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest $(ARGS)

bench: $(VENV)/.installed
	$(VENV)/bin/python bench/run.py $(ARGS)

bench-quick: $(VENV)/.installed
	$(VENV)/bin/python bench/run.py --quick $(ARGS)
