# malwi developer entry points. `make help` lists them.
.DEFAULT_GOAL := help
PYTHON ?= python3
CARGO ?= cargo

.PHONY: help install install-release wheel wheel-check test test-rust test-python bench bench-check fuzz fuzz-check lint format msrv
.PHONY: evidence evidence-bandit evidence-pip-audit evidence-scan gates

# What the quality gates read (`make evidence`) and write: coverage, bandit and pip-audit
# reports, a JSON scan result and the schema validation report. Ignored by git.
EVIDENCE := evidence
# Flags of tools/pip_audit_gate.py. Strict by default: without vulnerability data the gate
# fails. `PIP_AUDIT_GATE_FLAGS=--allow-offline` lets a skip pass (it is still printed).
PIP_AUDIT_GATE_FLAGS ?=
# Extra flags of pip-audit itself, e.g. `-s osv` for the OSV service instead of PyPI's.
PIP_AUDIT_FLAGS ?=

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-19s %s\n", $$1, $$2}'

# The Rust version Cargo.toml declares (`rust-version`), checked by `make msrv`.
MSRV := $(shell sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)

install: ## editable install with the test dependencies; the Rust core in the `dev` profile (quick to build)
	MATURIN_PEP517_ARGS="--profile dev" $(PYTHON) -m pip install -q -e '.[test]'

install-release: ## the same with the release core (fat LTO): what benchmarks measure
	$(PYTHON) -m pip install -q -e '.[test]'

wheel: ## an abi3 wheel and an sdist in dist/ (release profile)
	$(PYTHON) -m pip install -q 'maturin>=1.7,<2'
	$(PYTHON) -m maturin build -q --release --sdist --out dist

wheel-check: ## build the abi3 wheel and sdist, check them (auditwheel, twine), test the CLI and API from the installed wheel
	bash tools/wheel_check.sh dist-check

test: install test-rust test-python bench-check fuzz-check ## Rust and Python tests, benchmark and fuzz smoke runs (CI: then `evidence gates`, `lint`)

test-rust: ## unit, snapshot and property tests of the core (CI=true rejects stale snapshots)
	$(CARGO) test -q -p malwi-core

test-python: ## pytest (API, CLI, properties, adversarial inputs, stubs, samples, tools) under coverage: evidence/coverage.json
	@mkdir -p $(EVIDENCE)
	$(PYTHON) -m pytest -q tests --cov=malwi --cov=malwi_research --cov-config=tools/coveragerc --cov-report=json:$(EVIDENCE)/coverage.json

bench-check: ## every benchmark in a short mode (a broken one fails): evidence/benchmarks.json, judged by `make gates`
	@mkdir -p $(EVIDENCE)
	$(PYTHON) -m pytest -q benches --benchmark-only --benchmark-min-rounds=3 --benchmark-max-time=0.5 \
		--benchmark-warmup=off --benchmark-json=$(EVIDENCE)/benchmarks.json
	$(CARGO) bench -q -p malwi-core --bench extract -- --test

bench: install-release ## benchmark numbers: pytest-benchmark, criterion, and the CLI against parse-only
	$(PYTHON) -m pytest benches --benchmark-only --benchmark-columns=median,mean,stddev,rounds
	$(CARGO) bench -p malwi-core --bench extract
	$(PYTHON) benches/cli_throughput.py

fuzz-check: ## the fuzz target builds
	cd fuzz && $(CARGO) check -q

fuzz: ## fuzz the compiler for 5 minutes (needs nightly and cargo-fuzz)
	cd fuzz && $(CARGO) +nightly fuzz run compile -- -max_total_time=300 -max_len=8192

lint: ## ruff (lint and format), rustfmt, clippy and mypy
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(CARGO) fmt --all --check
	$(CARGO) clippy -q -p malwi-core -p malwi-python --all-targets -- -D warnings
	$(PYTHON) -m mypy --strict python/malwi python/malwi_research
	$(PYTHON) -m mypy --strict tools

format: ## format Python and Rust sources, and apply ruff's safe fixes
	$(PYTHON) -m ruff check --fix -q .
	$(PYTHON) -m ruff format -q .
	$(CARGO) fmt --all

msrv: ## the declared rust-version builds malwi (installs that toolchain with rustup, minimal profile)
	rustup toolchain install $(MSRV) --profile minimal
	$(CARGO) +$(MSRV) check -q -p malwi-core -p malwi-python --all-targets

evidence: test-python evidence-bandit evidence-pip-audit evidence-scan ## collect evidence/: coverage (the test run), bandit, pip-audit, a JSON scan result

evidence-bandit: ## bandit over python/malwi: evidence/bandit.json (judged by `make gates`)
	@mkdir -p $(EVIDENCE) && rm -f $(EVIDENCE)/bandit.json
	$(PYTHON) -m bandit -q -r python/malwi python/malwi_research -f json -o $(EVIDENCE)/bandit.json || test -s $(EVIDENCE)/bandit.json

# pip-audit exits 1 when it finds vulnerabilities (the report is written: the gate judges it)
# and when it cannot run at all, e.g. its vulnerability service is out of reach (no report):
# the last line of its log then goes to evidence/pip-audit.error, which the gate reports as a skip.
evidence-pip-audit: ## pip-audit of this environment: evidence/pip-audit.json, or evidence/pip-audit.error
	@mkdir -p $(EVIDENCE) && rm -f $(EVIDENCE)/pip-audit.json $(EVIDENCE)/pip-audit.error
	$(PYTHON) -m pip_audit --progress-spinner off $(PIP_AUDIT_FLAGS) -f json -o $(EVIDENCE)/pip-audit.json 2> $(EVIDENCE)/pip-audit.log \
		|| test -s $(EVIDENCE)/pip-audit.json \
		|| { tail -n 1 $(EVIDENCE)/pip-audit.log > $(EVIDENCE)/pip-audit.error; \
		     echo "pip-audit could not run: $$(cat $(EVIDENCE)/pip-audit.error)"; }

evidence-scan: ## `malwi scan --format json examples`: evidence/scan_result.json (exit 1, malicious found, is expected)
	@mkdir -p $(EVIDENCE)
	$(PYTHON) -m malwi scan examples --format json --quiet > $(EVIDENCE)/scan_result.json; test $$? -le 1

# Every gate runs, so one report shows all that fails; the target fails if any did.
gates: ## judge evidence/: coverage floor, benchmark ratios, bandit, pip-audit, JSON Schemas of the pattern DBs and the scan result
	@status=0; \
	$(PYTHON) tools/coverage_gate.py || status=1; \
	$(PYTHON) tools/bench_gate.py || status=1; \
	$(PYTHON) tools/bandit_gate.py || status=1; \
	$(PYTHON) tools/pip_audit_gate.py $(PIP_AUDIT_GATE_FLAGS) || status=1; \
	$(PYTHON) tools/schema_validate.py $(addprefix --pattern-db ,$(wildcard data/patterns/*.json)) \
		--result $(EVIDENCE)/scan_result.json || status=1; \
	exit $$status
