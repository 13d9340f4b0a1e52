# The two commands of the README: `make demo` and `make test`. Each creates .venv when missing and
# installs in ONE pip call with constraints.txt (installing in steps lets pip move grpcio and
# break esdbclient), then runs `pip check`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := constraints.txt
AREA ?=
# Test processes (pytest-xdist): one per CPU by default; TEST_WORKERS=0 runs the suite in one.
TEST_WORKERS ?= auto
# Debian packages the benchmarks need (wrk loads the API), installed when missing.
BENCH_DEBS := wrk
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help demo serve test lint bench install install-dev clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# A stamp per extra set: reinstalled when pyproject.toml or the constraints change.
$(VENV)/.installed-%: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c $(CONSTRAINTS) -e ".$(if $(filter-out base,$*),[$*])"
	$(BIN)/python -m pip check
	@touch $@

install: $(VENV)/.installed-base  ## runtime dependencies only
# The benchmarks are type-checked too, so the test tools come with the benchmark peers.
install-dev: $(VENV)/.installed-dev,bench  ## runtime + lint, types, tests, benchmark peers

demo: install  ## run the platform's main job on the embedded default (no server needed)
	$(BIN)/bookworm demo

serve: install  ## the HTTP API on 127.0.0.1:8000, on the demo's data unless BOOKWORM_DATA_DIR is set
	BOOKWORM_DATA_DIR="$${BOOKWORM_DATA_DIR:-var/demo}" $(BIN)/bookworm serve

lint: install-dev  ## ruff (lint and format), mypy, import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint  ## the whole suite: lint, types, import contracts, tests
	$(BIN)/pytest -n $(TEST_WORKERS)

bench: install-dev  ## every benchmark (or one: make bench AREA=eventstore)
	@for tool in $(BENCH_DEBS); do command -v $$tool >/dev/null || { \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $$tool; }; done
	@for area in $(or $(AREA),$(patsubst benchmarks/%.py,%,$(filter-out benchmarks/_%,$(wildcard benchmarks/*.py)))); do \
		echo "== benchmarks/$$area.py"; $(BIN)/python -m benchmarks.$$area; \
	done

clean:  ## remove the environment and local data
	rm -rf $(VENV) var .mypy_cache .ruff_cache .hypothesis
