# corrigenda: `make install` once, then `make dataset` (offline, built-in engine) or `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SPEC ?= spec/offline.yaml
OUT ?= out

.PHONY: install test lint dataset release review publish bench schema clean

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

# Review a pull request: every spec against its version at BASE (cost, changed settings and prompts, breaking
# changes), as Markdown in REVIEW and, on GitHub Actions, in the job summary. Spends nothing.
BASE ?= origin/main
REVIEW ?= review.md
SPECS ?= $(wildcard spec/*.yaml)
review: install
	@: > $(REVIEW)
	@for spec in $(SPECS); do \
	  if git cat-file -e "$(BASE):$$spec" 2>/dev/null; then \
	    $(BIN)/corrigenda diff --base-ref $(BASE) $$spec >> $(REVIEW) || exit $$?; \
	  else \
	    printf '## `%s`: new spec (not at %s)\n\n' "$$spec" "$(BASE)" >> $(REVIEW); \
	    $(BIN)/corrigenda plan $$spec >> $(REVIEW) || exit $$?; \
	  fi; \
	  echo >> $(REVIEW); \
	done
	@if [ -n "$$GITHUB_STEP_SUMMARY" ]; then cat $(REVIEW) >> "$$GITHUB_STEP_SUMMARY"; fi
	@cat $(REVIEW)

# Release: build SPEC into OUT, gate it (schema, invariants, hashes, built from SPEC as it is now), and pack it with
# the gate's report as $(OUT).tar.gz for upload.
publish: install
	$(BIN)/corrigenda build $(SPEC) --out $(OUT)
	$(BIN)/corrigenda check $(OUT) --spec $(SPEC) --json > $(OUT).gate.json
	tar -czf $(OUT).tar.gz -C $(OUT) .
	@echo "release $(OUT).tar.gz, gate report $(OUT).gate.json"

bench: install
	$(BIN)/python bench/chunking.py
	$(BIN)/python bench/pdf.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/progress_eta.py
	$(BIN)/python bench/adaptive.py
	$(BIN)/python bench/dedupe.py
	$(BIN)/python bench/batch_files.py

schema: install
	$(BIN)/python -m corrigenda.compiler.spec_schema schemas/spec.schema.json

clean:
	rm -rf $(OUT) $(OUT).tar.gz $(OUT).gate.json $(REVIEW) .pytest_cache .ruff_cache
