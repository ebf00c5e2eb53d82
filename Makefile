# Two commands on a fresh machine: `make book` and `make test`. Both bootstrap .venv via `make setup`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup book test lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip<24.1"
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[book,dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnnbook)" > /dev/null
	touch $(STAMP)

book: setup
	$(BIN)/rnnbook book

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check rnnbook tests benchmarks
	$(BIN)/ruff format --check rnnbook tests benchmarks

clean:
	rm -rf _build book/studies tests/_smoke
