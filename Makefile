# corrigenda: `make install` once, then `make dataset` (offline, built-in engine) or `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SPEC ?= spec/offline.yaml
OUT ?= out

.PHONY: install test lint dataset release bench schema clean

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

# Build the dataset from SPEC into OUT (the offline spec needs no network and no key).
dataset: install
	$(BIN)/corrigenda build $(SPEC) --out $(OUT)

# Build, then gate the release: schema, invariants, the manifest's hashes, and that it was built from SPEC as it is.
release: dataset
	$(BIN)/corrigenda check $(OUT) --spec $(SPEC)

bench: install
	$(BIN)/python bench/chunking.py
	$(BIN)/python bench/pdf.py
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/progress_eta.py
	$(BIN)/python bench/batch_files.py

schema: install
	$(BIN)/python -m corrigenda.compiler.spec_schema schemas/spec.schema.json

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
