# Two commands do all the set-up: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test install install-test bench clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "cubeserver needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.base
install-test: $(VENV)/.test

serve: $(VENV)/.base
	$(VENV)/bin/cubeserver serve --host $(HOST) --port $(PORT)

test: $(VENV)/.test
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(VENV)/.test
	$(PY) benchmarks/edr.py
	$(PY) benchmarks/coverages.py
	$(PY) benchmarks/zarr_http.py
	$(PY) benchmarks/processes.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
