# hearth: two commands on a fresh machine with Python 3.11+ and make.
#
#   make run    set up .venv (locked dependencies) and start the bot
#   make test   set up .venv with the dev dependencies and run the whole suite
#
# Set-up is skipped when nothing changed: stamp files inside .venv remember which lock files
# (and which pyproject.toml) were installed, and which Python built the venv. To use another
# interpreter: `PYTHON=python3.12 make test` (the venv is rebuilt for it).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
PIP_TOOLS ?= pip-tools>=7.4,<8
PYTEST_ARGS ?=

# "3.11" for python3.11; empty when $(PYTHON) cannot be run (checked in the venv recipe).
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)

VENV_STAMP := $(VENV)/.hearth-python-$(PY_VERSION)
MAIN_STAMP := $(VENV)/.hearth-main-installed
DEV_STAMP := $(VENV)/.hearth-dev-installed

.DEFAULT_GOAL := help
.PHONY: help run sandbox screenshots test lint audit format lock migration clean install install-dev

help:
	@echo "make run                 start hearth (reads settings from the environment or .env)"
	@echo "make sandbox             try hearth in your browser, no Slack needed"
	@echo "make test                run the whole test suite (SQLite, and PostgreSQL if reachable)"
	@echo "make screenshots         refresh docs/screenshots/ for the README (needs Chromium)"
	@echo "make lint                ruff check and ruff format --check"
	@echo "make audit               check every locked dependency for known vulnerabilities"
	@echo "make format              apply ruff's fixes and formatting"
	@echo "make lock                regenerate requirements/*.lock from pyproject.toml"
	@echo "                         (make lock upgrade=1 also moves pins to the newest releases)"
	@echo 'make migration m="..."   write a new database migration from the models'
	@echo "make clean               remove .venv and caches"

run: $(MAIN_STAMP)
	$(BIN)/hearth run

sandbox: $(MAIN_STAMP)
	$(BIN)/hearth sandbox

screenshots: $(DEV_STAMP)
	HEARTH_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest tests/browser -k "sandbox"

test: $(DEV_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Fails on a known vulnerability, and on any pin it could not check (.ci/audit_locks.py).
audit: $(DEV_STAMP)
	$(BIN)/python .ci/audit_locks.py requirements/main.lock requirements/dev.lock

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

install: $(MAIN_STAMP)
install-dev: $(DEV_STAMP)

# A venv made by another Python (or a half-made one) is replaced, not patched.
$(VENV_STAMP):
	@if [ -z "$(PY_VERSION)" ]; then \
		echo "Cannot run '$(PYTHON)'. Install Python 3.11 or newer, or say which one to use:" \
			"PYTHON=python3.12 make ..." >&2; \
		exit 1; \
	fi
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "hearth needs Python 3.11 or newer; '$(PYTHON)' is $(PY_VERSION)." >&2; exit 1; }
	@if [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" \
			!= "$(PY_VERSION)" ]; then \
		echo "Creating $(VENV) with $(PYTHON) ($(PY_VERSION))"; \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	fi
	rm -f $(VENV)/.hearth-python-*
	touch $@

# Installing main.lock removes nothing, so a venv set up for tests can also run the bot.
$(MAIN_STAMP): $(VENV_STAMP) requirements/main.lock pyproject.toml
	$(PIP) install --quiet --require-hashes -r requirements/main.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): $(VENV_STAMP) requirements/dev.lock pyproject.toml
	$(PIP) install --quiet --require-hashes -r requirements/dev.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@

# dev.lock is resolved first; main.lock starts from its pins, so both agree on every version.
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-trusted-host --no-emit-find-links \
	$(if $(upgrade),--upgrade,)
lock: $(VENV_STAMP)
	@$(BIN)/python -c 'import piptools' 2>/dev/null || $(PIP) install --quiet "$(PIP_TOOLS)"
	@mkdir -p requirements
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(LOCK_FLAGS) --extra dev \
		--output-file requirements/dev.lock pyproject.toml
	cp requirements/dev.lock requirements/main.lock
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(LOCK_FLAGS) \
		--output-file requirements/main.lock pyproject.toml

# Compares the models with a scratch SQLite database migrated to the current head.
migration: $(DEV_STAMP)
	@if [ -z "$(m)" ]; then echo 'Say what changed: make migration m="add rota tables"' >&2; exit 2; fi
	$(BIN)/hearth db revision -m "$(m)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
