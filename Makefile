# The targets the README tells people to run. Each sets up what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock requirements-dev.lock | cksum | cut -d' ' -f1)
TRAIN_ARGS ?=

.PHONY: install run serve test audit train lint bench clean

$(STAMP): requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## make run: install, train the default model if there is none, serve on HOST:PORT (127.0.0.1:8000)
run: install
	$(BIN)/python -m training ensure-default
	$(BIN)/python -m service serve

serve: install
	$(BIN)/python -m service serve

## make test: the whole test suite (what CI runs), after the security scans
test: install audit
	npm ci --prefix tests/clients/node --no-audit --no-fund --loglevel=error
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m pytest

## make audit: bandit on the code, pip-audit on the locked dependencies (README: Security model)
audit: install
	$(BIN)/python -m bandit -q -c pyproject.toml -r service training bench data
	$(BIN)/python .ci/audit_dependencies.py

## make train: train a new model version and promote it (TRAIN_ARGS="--data my.csv --map ...")
train: install
	$(BIN)/python -m training train --promote $(TRAIN_ARGS)

## make bench: quality and speed benchmarks against same-run baselines, and the default model on
## the blind blog comments (reports in bench/reports/)
bench: install
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.speed
	$(BIN)/python -m training ensure-default
	$(BIN)/python -m bench.probe > bench/reports/probe.md && cat bench/reports/probe.md

## make bench-load: 60 s at a steady rate on both check endpoints, a model hot-reloaded half-way
bench-load: install
	$(BIN)/python -m bench.load --duration 60

lint: install
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
