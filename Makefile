# The two set-up commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOURCES := shared functions emulator tests scripts

.PHONY: venv demo serve test lint typecheck template pytest format clean browser

venv: $(STAMP)

$(STAMP): pyproject.toml requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3 setuptools==80.9.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The browser tests (tests/browser) drive Debian's Chromium through Playwright; Playwright's own
# browser download cannot work here. Installs chromium and CJK fonts when the browser is missing
# (as root, else with sudo); the tests fail, not skip, without it.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

browser: $(CHROMIUM)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk

demo: $(STAMP)
	$(BIN)/python -m emulator demo --out out/demo

# The demo, then its API, public pages and a local outbox on http://127.0.0.1:8300/ (Ctrl-C).
serve: $(STAMP)
	$(BIN)/python -m emulator serve

test: lint typecheck template pytest

lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

typecheck: $(STAMP)
	$(BIN)/mypy shared/lifecycle functions emulator scripts tests

template: $(STAMP)
	$(BIN)/python scripts/validate_template.py template.yaml

pytest: browser

# pytest exits 5 when it collects no test: that is a failure here, not a pass.
# Tests run in parallel (pytest-xdist), one worker per core; PYTEST_WORKERS=0 runs them in
# this process.
PYTEST_WORKERS ?= auto
pytest: $(STAMP)
	@$(BIN)/pytest -n $(PYTEST_WORKERS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status

format: $(STAMP)
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache shared/*.egg-info

# Not part of `make test` (several minutes): the demo without faults and under three seeded
# fault specs (python -m emulator.chaos_suite); fails on any duplicate, loss or unplanned
# delivery. One line per spec; details in out/chaos/summary.json.
.PHONY: chaos
chaos: $(STAMP)
	$(BIN)/python -m emulator.chaos_suite --out out/chaos

# Not part of `make test` (several minutes): 20,000 generated customers through the runner;
# prints the cost report (units, requests, GB-seconds and $ per sent message) next to a naive
# planner that Scans every customer every day, measured in the same run (scripts/bench_cost.py).
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python scripts/bench_cost.py --customers 20000 --days 3 --out out/bench
