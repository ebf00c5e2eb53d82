# Two commands on a fresh machine: `make book` and `make test`. Both bootstrap .venv via `make setup`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the pins of the dask and dev extras in pyproject.toml, installed by name so they are in one line
PINNED := "dask[distributed]==2026.8.0" dask-jobqueue==0.9.0 hypothesis==6.170.17
# pip >= 24.1 rejects PsychRNN 1.0.0's wheel metadata and silently installs PsychRNN 0.3
CHECK_PSYCHRNN := from importlib.metadata import version as v; \
	assert v('psychrnn') == '1.0.0', 'psychrnn ' + v('psychrnn') + ' is installed, not 1.0.0: reinstall with pip<24.1'

.PHONY: setup book test bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip<24.1"
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(PINNED)
	$(BIN)/python -m pip install --quiet -e ".[book,dev,psychrnn,dask]"
	$(BIN)/python -c "$(CHECK_PSYCHRNN)"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnnbook)" > /dev/null
	touch $(STAMP)

book: setup
	$(BIN)/rnnbook book

test: setup
	$(BIN)/python -m pytest

# Benchmarks (benchmarks/RESULTS.md), PsychRNN included. ARGS=--quick for a short run.
bench: setup
	$(BIN)/python -m benchmarks $(ARGS)

lint: setup
	$(BIN)/ruff check rnnbook tests benchmarks
	$(BIN)/ruff format --check rnnbook tests benchmarks

clean:
	rm -rf _build book/studies book/results.md tests/_smoke
