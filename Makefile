# Two commands: `make demo` runs the main job, `make test` runs the whole test suite.
# Each does its own set-up: a virtual environment in .venv with the project installed.
# For learners: `make setup` (the course extra, and your course folder lessons/), `make lab`, `make update`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= runs/demo
# Your course folder: your lesson files and notebooks (git ignores it; minirl.exercises.folder).
COURSE ?= lessons
# Jupyter refuses to start as root (Docker, cloud shells) unless told to: as root, `make lab` tells it.
USER_ID ?= $(shell id -u 2>/dev/null)
LAB_FLAGS ?= $(if $(filter 0,$(USER_ID)),--allow-root)
# `make site FAST=1` builds the course website with the notebooks in fast mode (MINIRL_FAST=1).
FAST ?=
KATEX_VERSION ?= 0.19.1
# Our matrices are small: BLAS threads only add overhead (and compete with the worker processes).
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: demo test setup lab update lessons bench clean site site-check

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

$(VENV)/.installed-docs: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,docs]'
	touch $(VENV)/.installed $(VENV)/.installed-dev $@

# KaTeX from the npm registry, for typesetting maths in the site without a CDN (not committed).
build/katex/.katex-$(KATEX_VERSION):
	npm install --prefix build/katex --no-save --no-audit --no-fund --loglevel=error katex@$(KATEX_VERSION)
	touch $@

demo: $(VENV)/.installed
	$(PY) -m minirl demo --out $(OUT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q

# The course extra: pytest for the checks, JupyterLab and the notebooks' kernel ("python3", what every
# notebook declares) in .venv; JUPYTER_PATH puts .venv's kernel first, so a "python3" kernel installed
# elsewhere cannot shadow it.
$(VENV)/.installed-course: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[course]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	touch $(VENV)/.installed $@

$(COURSE)/.minirl/course.json: | $(VENV)/.installed
	$(PY) -m minirl course start $(COURSE)

setup: $(VENV)/.installed-course $(COURSE)/.minirl/course.json
	@echo "minirl is installed in $(VENV) and your course folder is $(COURSE)/. Now run:  source $(VENV)/bin/activate"

lab: $(VENV)/.installed-course $(COURSE)/.minirl/course.json
	cd $(COURSE) && JUPYTER_PATH=$(abspath $(VENV))/share/jupyter $(abspath $(VENV))/bin/jupyter lab $(LAB_FLAGS)

# A newer course: git pull (which never touches $(COURSE)/), the set-up again if the dependencies
# changed, then your course folder brought up to date with your work kept.
update:
	git pull --ff-only
	$(MAKE) --no-print-directory $(VENV)/.installed-course $(COURSE)/.minirl/course.json
	$(PY) -m minirl course update $(COURSE)

# The course website in site/ (docs/site_build.py); then check every page in headless chromium.
site: $(VENV)/.installed-docs build/katex/.katex-$(KATEX_VERSION)
	$(PY) docs/site_build.py $(if $(filter 1,$(FAST)),--fast) --katex build/katex/node_modules/katex/dist

site-check: $(VENV)/.installed-docs
	$(PY) docs/site_check.py site

lessons: $(VENV)/.installed
	$(PY) -m minirl exercises generate --out $(COURSE)

clean:
	rm -rf $(VENV) runs .pytest_cache site build
