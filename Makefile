# The two commands on a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

# make test runs on PostgreSQL and Redis (started by .ci/run in CI); override as needed.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/hub
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: demo test lint format bench install install-test clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND $(PY) manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND $(PY) manage.py rundemo --port $(PORT)

test: install-test
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy hub connectors mappings sync sandbox settlements purchases orders

format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks use their own PostgreSQL database (created if missing) and Redis database.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/hub_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/3
# Empty: every benchmark; else the ones named, e.g. BENCH="engine orders".
BENCH ?=

bench: install-test
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) -m bench $(BENCH)

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
