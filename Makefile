# Two commands: `make run` starts Imago on the bundled sample archive, `make test` runs every check.
# Both create .venv on first use and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARCHIVE ?= resources/sample-archive

.PHONY: run test lint format clean mutate

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Imago needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/python main.py gui $(ARCHIVE)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Mutation testing of the core modules (slow, not part of `make test`); report in build/mutation/report.md.
# MODULES="store/services/search.py store/ingestion/scanner.py" limits it; JOBS sets mutmut's parallel children.
mutate: $(VENV)/.installed-dev
	$(BIN)/python tools/mutation $(MODULES) $(if $(JOBS),--jobs $(JOBS))

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
