# The two commands a newcomer needs:  make serve   and   make test
# Both create .venv/ (Python 3.11+) and install the book and package into it on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve build test lint browser bench clean pdf

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned to the 2.13.0 CPU wheel in pyproject.toml; any other spec pulls GBs of CUDA wheels
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# `mkdocs serve` mounts the site at the path of site_url (/llmath/ by default, as on GitHub Pages);
# a local server keeps it at the root, where tools/bench.py and the README expect it.
serve bench: export LLMATH_SITE_URL = http://127.0.0.1:8000/

## make serve: install (first time) and serve the book at http://127.0.0.1:8000 with live reload.
## --dirty rebuilds only the pages an edit touches; the execution cache (.cache/llmath-book) knows
## which pages use which module, so a change in src/ re-runs exactly the pages that depend on it.
serve: $(STAMP)
	$(BIN)/python -m mkdocs serve --dirty

## make build: a strict build into site/ (never add -q: it hides the warnings --strict counts).
## It uses the execution cache; LLMATH_BOOK_CACHE=off make build builds cold, as CI does.
build: $(STAMP)
	$(BIN)/python -m mkdocs build --strict

## make pdf: the PDF edition, site/llmath.pdf: a strict build, then every page in nav order printed
## by Chromium (tools/pdf.py; contents, bookmarks and links inside the PDF). The Pages workflow runs it.
pdf: build browser
	$(BIN)/python tools/pdf.py --site site --out site/llmath.pdf

## make bench: cold, warm and edit-loop build times, and page weight in Chromium (a few minutes)
bench: $(STAMP) browser
	$(BIN)/python tools/bench.py

## make browser: Debian's Chromium for the browser tests (needs root and apt; skipped if present)
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  test -n "$$LLMATH_CHROMIUM" || \
	  { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "No Chromium: the browser tests will be skipped (set LLMATH_CHROMIUM=/path/to/chrome)."

## make lint: ruff and mypy (part of make test)
lint: $(STAMP)
	$(BIN)/ruff check src tests docs/examples hooks tools
	$(BIN)/ruff format --check src tests docs/examples hooks tools
	$(BIN)/mypy

## make test: everything CI runs: lint, unit tests, doctests, book guards, strict site build, browser
test: $(STAMP) browser lint
	$(BIN)/python -m pytest

clean:
	rm -rf site .cache .pytest_cache .hypothesis .mypy_cache .ruff_cache
