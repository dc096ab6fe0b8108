# DL Explorer: `make run` starts the app, `make test` runs every test, `make bench` measures speed,
# `make fuzz` runs a long fuzz campaign over every page's controls.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test bench fuzz browser-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.app-installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.app-installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.app-installed
	$(PY) -m ui.serve --server.port $(PORT)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "Chromium is missing: the browser tests will skip. Install Debian's 'chromium' package to run them."; \
	fi

test: $(VENV)/.dev-installed browser-deps
	$(PY) -m pytest

bench: $(VENV)/.dev-installed browser-deps
	$(PY) bench/run.py
	$(PY) bench/load.py
	$(PY) bench/targets.py

# A long fuzz campaign: FUZZ_EXAMPLES random combinations of every control on every page (make test tries 50).
FUZZ_EXAMPLES ?= 500
fuzz: $(VENV)/.dev-installed
	DLX_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/pages/test_pages.py -k fuzz -p no:timeout --hypothesis-show-statistics

clean:
	rm -rf $(VENV) .pytest_cache screenshots
