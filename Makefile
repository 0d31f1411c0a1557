# Two commands on a fresh machine with Python 3.11+ and make: `make demo` and `make test`.
# Both create the virtual environment on first use; nothing else needs installing by hand.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test fuzz lint format clean

setup: $(STAMP)

# Re-install whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	touch $@

demo: $(STAMP)  ## every finished lesson, client against server, end to end, offline
	$(PY) scripts/tour.py

# Three workers on two cores: while one waits for a server or a deadline, the others run. conftest.py
# hands each worker whole files or lessons, so that the servers their tests share start once.
# `make test LESSON=03` runs one lesson's tests (its folder's tests/ only).
test: $(STAMP)  ## the whole suite (real processes, real ports); the 15 slowest tests and the CPU it took, last
	$(PY) -m pytest -n 3 --durations=15 $(if $(LESSON),$(or $(wildcard $(LESSON)-*/tests),$(error no lesson $(LESSON))))

# Every fuzz target, with 2,000 new inputs each instead of the suite's fixed 250 (conftest.py).
fuzz: $(STAMP)  ## the hypothesis fuzz targets, thoroughly: new inputs every run
	$(PY) -m pytest -n 3 --hypothesis-profile fuzz -k "fuzz or hostile" $(if $(LESSON),$(wildcard $(LESSON)-*/tests))

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
