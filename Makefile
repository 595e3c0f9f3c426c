# Two commands do all the set-up: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test install install-test bench notebook clean

$(VENV)/.base: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "cubeserver needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[notebook]'
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.base
install-test: $(VENV)/.test

serve: $(VENV)/.base
	$(VENV)/bin/cubeserver serve --host $(HOST) --port $(PORT)

# runs examples/subsetting.ipynb headless against a running server (CUBESERVER_URL, default http://$(HOST):$(PORT))
notebook: $(VENV)/.base
	CUBESERVER_URL=$${CUBESERVER_URL:-http://$(HOST):$(PORT)} $(PY) -m cubeserver.notebook examples/subsetting.ipynb

# the suite on every core (pytest-xdist; a test file stays on one worker: they share fixtures per file)
TEST_JOBS ?= auto
test: $(VENV)/.test
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist loadfile $(PYTEST_ARGS)

bench: $(VENV)/.test
	$(PY) benchmarks/edr.py
	$(PY) benchmarks/coverages.py
	$(PY) benchmarks/zarr_http.py
	$(PY) benchmarks/processes.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
