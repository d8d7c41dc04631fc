# Putokaz: `make run` starts everything on SQLite; `make test` runs the suite on PostgreSQL.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

ROLE ?= police
ORG ?=
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2
REPLAY ?=

# Without TEST_DATABASE_URL, use a local PostgreSQL if one answers (the tests create and drop
# their own databases on it); otherwise the fixtures fall back to testcontainers, then fail clearly.
LOCAL_PG := postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: help install run migrate seed token test lint format bench clean audit-verify web-vendor

help:
	@echo "make run | test | token ROLE=police [ORG=...] | migrate | audit-verify | lint | bench | clean"

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(PY) -m deploy.dev run

migrate: install
	$(PY) -m deploy.dev secret
	$(PY) -m deploy.dev migrate

seed: migrate
	$(PY) -m deploy.dev seed

# Checks every service's audit hash chain (PUTOKAZ_<SERVICE>_DATABASE_URL, else the dev SQLite files).
audit-verify: install
	$(PY) -m deploy.dev audit-verify

token: install
	@$(PY) -m deploy.dev token --role $(ROLE) $(if $(ORG),--org $(ORG),)

# Two passes: the suite in parallel (PYTEST_WORKERS xdist workers, one set of databases each; 0 runs it
# in this process), then alone the tests that restart PostgreSQL (they would break the other worker's
# connections). Exit 5 of the second pass means "nothing selected" (e.g. PYTEST_ARGS named a file).
test: install
	@if [ -z "$$TEST_DATABASE_URL" ] && $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		echo "TEST_DATABASE_URL not set: using the local PostgreSQL at 127.0.0.1:5432"; \
		export TEST_DATABASE_URL=$(LOCAL_PG); \
	fi; \
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=25 -m "not restarts_postgres" $(PYTEST_ARGS) && \
	{ $(PY) -m pytest -m restarts_postgres $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]; }

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check putokaz gateway services deploy tests bench web

format: install
	$(PY) -m ruff format putokaz gateway services deploy tests bench web
	$(PY) -m ruff check --fix .

# The BiH year replay (minutes) runs only with REPLAY=1: make bench REPLAY=1 (docs/testing.md).
bench: install
	$(if $(REPLAY),PUTOKAZ_BENCH_REPLAY=1 ,)$(PY) -m bench

# Refresh the vendored browser libraries (Preact, htm, idb, Swagger UI) from the npm registry.
web-vendor:
	$(PYTHON) web/vendor.py $(if $(LATEST),--latest,)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
