# synth — the front door. `make serve` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install fmt lint type imports test test-fast serve demo bench migrate check clean browser audit

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install pinned dependencies (CPU torch from disk)

fmt: install ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

type: install ## mypy --strict on every package
	$(BIN)/mypy

imports: install ## import-linter: api -> synth -> models, corpus stays an adapter
	$(BIN)/lint-imports

AXE_VERSION := 4.14.1
AXE_JS      := .cache/axe/node_modules/axe-core/axe.min.js

browser: ## Debian's Chromium (apt) and axe-core (npm, into .cache/) for the browser tests; idempotent
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	@test -f $(AXE_JS) || npm install --silent --no-audit --no-fund --prefix .cache/axe axe-core@$(AXE_VERSION)

test: lint type imports browser ## Everything CI runs: lint, types, import contracts, all tests (incl. slow, PostgreSQL)
	$(BIN)/python -m pytest -m "" -p no:cacheprovider

test-fast: install ## Quick loop: tests not marked slow
	$(BIN)/python -m pytest -m "not slow" -p no:cacheprovider

check: test

AUDIT_VENV := .cache/audit-venv

audit: ## pip-audit over the pinned requirements.txt (needs the PyPI JSON API or OSV; see docs/security.md)
	test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && \
	  $(AUDIT_VENV)/bin/pip install --disable-pip-version-check -q pip-audit==2.10.1; }
	$(AUDIT_VENV)/bin/python .ci/audit.py requirements.txt

migrate: install ## Create or upgrade the store schema for SYNTH_DATABASE_URL
	$(BIN)/synth init

demo: migrate ## Load the demo corpus (idempotent)
	$(BIN)/synth demo

serve: install ## Set up the embedded store, load the demo corpus if empty, fit themes once, serve on :8000
	$(BIN)/synth init
	$(BIN)/synth demo --if-empty
	@$(BIN)/synth topics runs --json 2>/dev/null | grep -q '"status": "current"' || \
	  $(BIN)/synth topics fit || echo "themes not fitted yet: run 'synth topics fit' later"
	$(BIN)/synth serve

bench: install ## Benchmarks (figures go to docs/benchmarks.md)
	$(BIN)/python bench/ingest.py

clean: ## Remove the embedded store and derived artefacts (not the venv)
	rm -rf var
