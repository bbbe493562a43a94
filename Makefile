# Two commands matter: `make lab` (set up, then JupyterLab on the lectures) and `make test`.
# The environment is created from pyproject.toml the first time either runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8888
WORKERS ?= auto

.PHONY: lab test venv kernel system-deps bench notes student-bundle release doctor clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@$(PY) -c "import torch, torchvision; print('torch', torch.__version__, '/ torchvision', torchvision.__version__, 'import fine')"
	@touch $(STAMP)

venv: $(STAMP)

LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

# The kernel, and JupyterLab's settings overrides (no "official Jupyter news" question, no
# update check: the course runs offline) in the environment's own settings folder.
kernel: venv
	@$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (CNN course)" >/dev/null
	@mkdir -p $(LAB_SETTINGS) && cp config/jupyterlab-overrides.json $(LAB_SETTINGS)/overrides.json
	@echo "Jupyter kernel 'python3' registered for $(VENV)"

lab: kernel
	@$(VENV)/bin/course check-widgets
	@echo "Starting JupyterLab on lectures/ (offline, embedded data). Open the URL printed below."
	COURSE_OFFLINE=$${COURSE_OFFLINE:-1} $(VENV)/bin/jupyter lab --notebook-dir=lectures \
		--ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) --no-browser \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# Debian packages the sandbox (bubblewrap) and the browser tests (chromium) use; skipped
# silently where apt-get or root is missing (those tests then say why they skip).
system-deps:
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		missing=""; command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
		[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
		if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
			|| echo "could not install$$missing: the tests that need them will skip and say why"; fi; \
	fi
	@# the hub test's proxy, into a local folder (never a global npm install)
	@if command -v npm >/dev/null && [ ! -x build/hub/node_modules/.bin/configurable-http-proxy ]; then \
		npm install --prefix build/hub --no-audit --no-fund --silent configurable-http-proxy@5 >/dev/null \
		|| echo "could not install configurable-http-proxy: the hub test will skip and say why"; fi

# Two runs: everything in parallel, then the notes site (it reuses the lectures the first run
# executed, in build/executed/) and the browser tests, which drive one JupyterLab at a time.
test: kernel system-deps
	$(VENV)/bin/ruff check .
	COURSE_OFFLINE=1 COURSE_THREADS=1 $(PY) -m pytest -n $(WORKERS) --dist loadgroup -q -m "not notes and not browser"
	COURSE_OFFLINE=1 COURSE_THREADS=1 $(PY) -m pytest -p no:xdist -q -m "notes or browser"

bench: venv
	COURSE_OFFLINE=1 $(PY) benchmarks/fit_throughput.py
	COURSE_OFFLINE=1 $(PY) benchmarks/grading_throughput.py

# Every lecture in full mode (COURSE_FAST=0), cached in build/notes-cache/ by content: a rebuild
# re-runs only the lectures (or all, after a change to course/) whose cells or code changed.
notes: kernel
	COURSE_OFFLINE=$${COURSE_OFFLINE:-1} $(PY) -m course.notes

student-bundle: venv
	$(PY) -m autograder.bundle

release: venv
	$(PY) -m autograder release all

doctor: venv
	$(VENV)/bin/course doctor

clean:
	rm -rf build .pytest_cache
