# Two commands: `make demo` runs the main job, `make test` runs the whole test suite.
# Each does its own set-up: a virtual environment in .venv with the project installed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= runs/demo
# Our matrices are small: BLAS threads only add overhead (and compete with the worker processes).
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: demo test lab lessons bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(PY) -m minirl demo --out $(OUT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q

lab: $(VENV)/.installed-dev
	$(PY) -m pip install --quiet jupyterlab
	$(PY) -m ipykernel install --user --name minirl --display-name "minirl (.venv)"
	cd notebooks && ../$(VENV)/bin/jupyter lab

lessons: $(VENV)/.installed
	$(PY) -m minirl exercises generate

clean:
	rm -rf $(VENV) runs .pytest_cache
