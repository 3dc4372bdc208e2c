# malwi developer entry points. `make help` lists them.
.DEFAULT_GOAL := help
PYTHON ?= python3
CARGO ?= cargo

.PHONY: help install test test-rust test-python bench bench-check fuzz fuzz-check lint format

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: ## build the Rust core (release) and install malwi with its test dependencies
	$(PYTHON) -m pip install -q '.[test]'

test: install test-rust test-python bench-check fuzz-check ## everything CI runs: Rust and Python tests, benchmark and fuzz smoke runs

test-rust: ## unit, snapshot and property tests of the core (CI=true rejects stale snapshots)
	$(CARGO) test -q -p malwi-core

test-python: ## pytest: API, CLI, hypothesis properties, adversarial inputs, stubs, real samples
	$(PYTHON) -m pytest -q tests

bench-check: ## run every benchmark once, as a test (a broken benchmark fails)
	$(PYTHON) -m pytest -q benches --benchmark-disable
	$(CARGO) bench -q -p malwi-core --bench extract -- --test

bench: ## benchmark numbers: pytest-benchmark, criterion, and the CLI against parse-only
	$(PYTHON) -m pytest benches --benchmark-only --benchmark-columns=median,mean,stddev,rounds
	$(CARGO) bench -p malwi-core --bench extract
	$(PYTHON) benches/cli_throughput.py

fuzz-check: ## the fuzz target builds
	cd fuzz && $(CARGO) check -q

fuzz: ## fuzz the compiler for 5 minutes (needs nightly and cargo-fuzz)
	cd fuzz && $(CARGO) +nightly fuzz run compile -- -max_total_time=300 -max_len=8192

lint: ## rustfmt, clippy and mypy
	$(CARGO) fmt --all --check
	$(CARGO) clippy -q -p malwi-core -p malwi-python --all-targets -- -D warnings
	$(PYTHON) -m mypy --strict python/malwi

format: ## format Rust sources
	$(CARGO) fmt --all
