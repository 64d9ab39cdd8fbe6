# corrigenda: `make install` once, then `make dataset` (offline, built-in engine) or `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SPEC ?= spec/offline.yaml
OUT ?= out

.PHONY: install test lint dataset bench schema clean

$(BIN)/corrigenda: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/corrigenda

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

dataset: install
	$(BIN)/corrigenda validate $(SPEC)
	$(BIN)/corrigenda plan $(SPEC)

bench: install
	$(BIN)/python bench/chunking.py

schema: install
	$(BIN)/python -m corrigenda.compiler.spec_schema schemas/spec.schema.json

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
