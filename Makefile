# malwi developer entry points. `make help` lists them.
.DEFAULT_GOAL := help
PYTHON ?= python3
CARGO ?= cargo

.PHONY: help install test test-rust test-python bench bench-check fuzz fuzz-check lint format
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

install: ## build the Rust core (release) and install malwi with its test dependencies
	$(PYTHON) -m pip install -q '.[test]'

test: install test-rust test-python bench-check fuzz-check ## Rust and Python tests, benchmark and fuzz smoke runs (CI: then `evidence gates`, `lint`)

test-rust: ## unit, snapshot and property tests of the core (CI=true rejects stale snapshots)
	$(CARGO) test -q -p malwi-core

test-python: ## pytest (API, CLI, properties, adversarial inputs, stubs, samples, tools) under coverage: evidence/coverage.json
	@mkdir -p $(EVIDENCE)
	$(PYTHON) -m pytest -q tests --cov=malwi --cov-config=tools/coveragerc --cov-report=json:$(EVIDENCE)/coverage.json

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
	$(PYTHON) -m mypy --strict tools

format: ## format Rust sources
	$(CARGO) fmt --all

evidence: test-python evidence-bandit evidence-pip-audit evidence-scan ## collect evidence/: coverage (the test run), bandit, pip-audit, a JSON scan result

evidence-bandit: ## bandit over python/malwi: evidence/bandit.json (judged by `make gates`)
	@mkdir -p $(EVIDENCE) && rm -f $(EVIDENCE)/bandit.json
	$(PYTHON) -m bandit -q -r python/malwi -f json -o $(EVIDENCE)/bandit.json || test -s $(EVIDENCE)/bandit.json

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
gates: ## judge evidence/: coverage floor, bandit, pip-audit, JSON Schemas of the pattern DBs and the scan result
	@status=0; \
	$(PYTHON) tools/coverage_gate.py || status=1; \
	$(PYTHON) tools/bandit_gate.py || status=1; \
	$(PYTHON) tools/pip_audit_gate.py $(PIP_AUDIT_GATE_FLAGS) || status=1; \
	$(PYTHON) tools/schema_validate.py $(addprefix --pattern-db ,$(wildcard data/patterns/*.json)) \
		--result $(EVIDENCE)/scan_result.json || status=1; \
	exit $$status
