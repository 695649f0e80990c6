# Two commands on a fresh machine: `make run` serves the dashboard, `make test` runs every test.
#
# What installs is uv.lock: every direct and transitive dependency, pinned with hashes, for every
# platform. `uv sync --frozen` installs exactly that set into .venv and never re-resolves, so a
# user's first `make test` does not depend on what the registry serves that day. pyproject.toml
# keeps the allowed ranges; `make lock` re-resolves within them and rewrites uv.lock.
# uv itself comes from PyPI at the version and hashes in tools/uv.txt, into .tools/.
PYTHON ?= python3
PORT   ?= 8501
VENV   := .venv
BIN    := $(VENV)/bin
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv

export UV_PROJECT_ENVIRONMENT := $(VENV)
# the machine's Python (PYTHON), never one uv would download
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

# Compile the bytecode at install: a command then starts in a fraction of the time (pandas alone takes
# seconds to compile, and nothing else writes the .pyc files where PYTHONDONTWRITEBYTECODE is set).
SYNC := $(UV) sync --frozen --compile-bytecode

.PHONY: run test bench lint docs lock install install-test clean

$(UV): tools/uv.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@echo "==> uv (tools/uv.txt) into $(TOOLS)/"
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --disable-pip-version-check --no-deps --require-hashes -r tools/uv.txt
	@touch $@

# The locked set: the app's dependencies (run, bench) or those and the test extra (test, lint).
# `--inexact` keeps the test extra if it is there, so `make run` after `make test` removes nothing.
# The project itself is installed editable (its sources are this checkout): its bytecode is compiled
# here, as uv does the dependencies'.
install: $(UV)
	@echo "==> the locked dependencies (uv.lock) into $(VENV)/"
	$(SYNC) --inexact
	@$(BIN)/python -m compileall -q tracker dashboard

install-test: $(UV)
	@echo "==> the locked dependencies with the test extra (uv.lock) into $(VENV)/"
	$(SYNC) --extra test
	@$(BIN)/python -m compileall -q tracker dashboard

run: install
	@echo "==> the store in $${TRACKER_STORE:-var/store} (created from data/ on the first run)"
	$(BIN)/tracker init
	@echo "==> the dashboard on http://localhost:$(PORT) (PORT=... to change it; Ctrl+C stops it)"
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: install-test
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run.py

lint: install-test
	$(BIN)/ruff check .

# docs/cli.md's reference (each command's usage and options) from the parser in tracker/cli/parser.py; the prose
# around it is hand-written. tests/test_cli_docs.py fails while docs/cli.md is behind the parser. docs/tables.md,
# every table with its columns, from the table builders' specs (tests/test_tables.py checks it the same way).
docs: install
	$(BIN)/python -m tracker.cli_docs --write
	$(BIN)/python -m tracker.tables.docs --write

# Re-resolve every dependency to the newest release within pyproject.toml's ranges; commit uv.lock.
lock: $(UV)
	$(UV) lock --upgrade

clean:
	rm -rf $(VENV) $(TOOLS) var test-output
