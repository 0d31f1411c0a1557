# Two commands on a fresh machine with Python 3.11+ and make: `make demo` and `make test`.
# Both create the virtual environment on first use; nothing else needs installing by hand.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint format clean

setup: $(STAMP)

# Re-install whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	touch $@

demo: $(STAMP)  ## every finished lesson, client against server, end to end, offline
	$(PY) scripts/tour.py

test: $(STAMP)  ## the whole suite, two workers (real processes, real ports); the 15 slowest tests listed last
	$(PY) -m pytest -n 2 --dist loadgroup --durations=15

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
