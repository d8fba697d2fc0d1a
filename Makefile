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

.PHONY: demo test setup lab lessons bench clean

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

# JupyterLab and the notebooks' kernel ("python3", what every notebook declares) live in .venv;
# JUPYTER_PATH puts .venv's kernel first, so a "python3" kernel installed elsewhere cannot shadow it.
$(VENV)/.installed-lab: pyproject.toml $(VENV)/.installed-dev
	$(PY) -m pip install --quiet -e '.[dev,lab]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	touch $@

setup: $(VENV)/.installed-dev
	@echo "minirl is installed in $(VENV). Now run:  source $(VENV)/bin/activate"

lab: $(VENV)/.installed-lab
	cd notebooks && JUPYTER_PATH=$(abspath $(VENV))/share/jupyter ../$(VENV)/bin/jupyter lab

lessons: $(VENV)/.installed
	$(PY) -m minirl exercises generate

clean:
	rm -rf $(VENV) runs .pytest_cache
