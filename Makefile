# Everything a fresh machine needs, from the project's own files.
# `make test` and `make run` create .venv and install flowc into it first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# mypy cannot follow setuptools' editable-install import hook, so it checks a
# tree of links that lays the top-level folders out as the `flowc` package.
TYPETREE := $(VENV)/typecheck

.PHONY: install test lint typecheck unit run bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(TYPETREE)/flowc: $(STAMP)
	mkdir -p $(TYPETREE)/flowc
	for pkg in dsl compiler runtime stdlib grammar; do \
		ln -sfn "$(CURDIR)/$$pkg" "$(TYPETREE)/flowc/$$pkg"; \
	done

typecheck: $(TYPETREE)/flowc
	MYPYPATH=$(TYPETREE) $(BIN)/mypy -p flowc

unit: $(STAMP)
	./.ci/install-chromium
	$(BIN)/pytest

test: lint typecheck unit

run: $(STAMP)
	$(BIN)/flowc run examples/quickstart.flow

bench: $(STAMP)
	$(BIN)/pytest -o addopts="" -q -s tests/benchmarks

docs: $(STAMP)
	$(BIN)/python -m flowc.runtime.docgen

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis
