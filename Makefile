# The two commands that matter: `make run` and `make test`. Both set everything up first.
.DEFAULT_GOAL := help
PY := .venv/bin/python
ECOMCTL := .venv/bin/ecomctl

.PHONY: help setup setup-test run test test-unit lint bench dashboards clean

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## virtualenv, Python deps, Kafka jars (Maven), Prometheus (idempotent)
	@scripts/setup.sh

setup-test:  ## setup plus test tools (Chromium, chromedriver, wrk, docker-compose, PostgreSQL)
	@scripts/setup.sh --test

run: setup  ## start the local stack with demo traffic (Ctrl-C stops it)
	$(ECOMCTL) up

test: setup-test  ## lint, generated-artefact checks and every test (unit, integration, e2e, browser)
	$(MAKE) --no-print-directory lint
	$(ECOMCTL) schemas check
	$(ECOMCTL) dashboards build --check
	$(PY) -m pytest tests

test-unit: setup  ## unit tests only (no network)
	$(PY) -m pytest tests/unit

lint:  ## ruff + mypy
	.venv/bin/ruff check .
	.venv/bin/mypy ingest collectors policies controlplane dashboards

bench: setup-test  ## benchmarks: one JSON line each, figure beside its baseline
	@for b in bench/[a-z]*.py; do $(PY) -m bench.$$(basename $$b .py) || exit 1; done

dashboards: setup  ## regenerate dashboards/generated from code
	$(ECOMCTL) dashboards build

clean:  ## remove local state (stop the stack first: ecomctl down)
	rm -rf .ecomctl .pytest_cache .mypy_cache .ruff_cache
