# ambassador: run `make help` for the list of targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PICCOLO_CONF := ambassador.piccolo_conf
PG_TEST_URL ?= $(or $(AMBASSADOR_TEST_POSTGRES_URL),postgresql://postgres@127.0.0.1:5432/test)

# The tests run under coverage ([tool.coverage] in pyproject.toml), the `ambassador` commands they
# start as subprocesses included; the report lists the files not fully covered (docs/testing.md).
# COVERAGE_APPEND=1 adds to the data of the run before. The exit status is pytest's.
define covered_pytest
	@[ -n "$(COVERAGE_APPEND)" ] || $(BIN)/coverage erase
	status=0; $(1) $(BIN)/coverage run -m pytest || status=$$?; \
		$(BIN)/coverage combine -q --append && $(BIN)/coverage report || [ $$status -ne 0 ] || status=1; \
		exit $$status
endef

.PHONY: help run install install-dev migrate test lint typecheck pytest pytest-pg test-load test-cluster bench messages clean

help: ## Show the targets
	@awk 'BEGIN{FS=":.*##"} /^[a-zA-Z_-]+:.*##/{printf "  \033[1m%-12s\033[0m %s\n",$$1,$$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { echo "Python 3.11 is required (found: $(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed ## Create .venv and install the app

install-dev: $(VENV)/.installed-dev ## Create .venv and install the app with test tools

migrate: install ## Apply the database migrations
	$(BIN)/ambassador migrate

run: install migrate ## Serve on http://127.0.0.1:$(PORT) (SQLite in var/; first run prints the admin login)
	$(BIN)/ambassador dev-setup
	$(BIN)/ambassador serve --port $(PORT)

lint: install-dev ## ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev ## mypy --strict
	$(BIN)/mypy

pytest: install-dev ## Tests on SQLite with coverage (Debian's chromium for tests/browser and clamav-daemon for the antivirus tests: installed here when root)
	@[ -x /usr/bin/chromium ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; }; } || \
		echo "chromium could not be installed: the browser tests (tests/browser) are skipped"
	@[ -x /usr/sbin/clamd ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q clamav-daemon </dev/null || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q clamav-daemon </dev/null; }; }; } || \
		echo "clamav-daemon could not be installed: the antivirus tests (tests/clamav.py) are skipped"
	$(call covered_pytest,)

pytest-pg: install-dev ## Tests on PostgreSQL (AMBASSADOR_TEST_POSTGRES_URL or the local server); coverage is the SQLite pass's
	AMBASSADOR_TEST_DATABASE=$(PG_TEST_URL) $(BIN)/pytest

test: lint typecheck pytest ## Lint, type check, tests on SQLite and, when reachable, PostgreSQL
	@if [ -n "$(AMBASSADOR_TEST_POSTGRES_URL)" ] || $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		$(MAKE) --no-print-directory pytest-pg; \
	else \
		echo "PostgreSQL not reachable on 127.0.0.1:5432: PostgreSQL tests skipped"; \
	fi

test-load: install-dev ## Load and fault tests: 200 nominators, SIGKILL, PostgreSQL restart (AMBASSADOR_LOAD_SECONDS=30; not in make test)
	AMBASSADOR_LOAD_TESTS=1 $(BIN)/pytest tests/load --confcutdir=tests/load -v

test-cluster: install-dev ## Caddy + 2 instances + PostgreSQL + Redis + 2 mail senders, as deploy/ describes (not in make test)
	@command -v caddy >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q caddy </dev/null || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q caddy </dev/null; }; }; } || \
		{ echo "caddy is missing and could not be installed (apt-get install caddy as root)"; exit 1; }
# Debian's caddy package starts its own service on :80; the test runs its own Caddy instead.
	@[ "$$(id -u)" != 0 ] || ! command -v systemctl >/dev/null || systemctl disable --now caddy >/dev/null 2>&1 || true
	@$(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null || \
		{ command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -n1)" main start; } || true
	@$(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 6379), 2)" 2>/dev/null || \
		{ command -v redis-server >/dev/null && redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; } || true
	AMBASSADOR_CLUSTER_TESTS=1 $(BIN)/pytest tests/cluster --confcutdir=tests/cluster -v -p no:cacheprovider

bench: install-dev ## Benchmarks: results speed; the app under load vs bare Litestar; mail delay (BENCH_ARGS=--quick)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; }; }; } || \
		echo "wrk could not be installed: bench/bench_app.py uses its Python load client"
# All run even when one misses its target; the exit status is the worst of them.
	status=0; $(BIN)/python bench/bench_results.py || status=$$?; \
		$(BIN)/python bench/bench_app.py $(BENCH_ARGS) || { s=$$?; [ $$s -gt $$status ] && status=$$s; }; \
		$(BIN)/python bench/bench_mail.py $(BENCH_ARGS) || { s=$$?; [ $$s -gt $$status ] && status=$$s; }; \
		exit $$status

messages: install-dev ## Extract messages and update the pl/en/uk catalogs
	@mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k translate:2 -k gettext -k ngettext:1,2 \
		--no-location --sort-output --project=ambassador -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d ambassador/locale --ignore-obsolete --no-fuzzy-matching

clean: ## Remove the virtualenv, caches and coverage data (keeps the rest of var/)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info var/coverage
