# The two commands: `make demo` plays a demo competition end to end; `make test` runs the suite.
# Both create the project-local virtual environment and install the pinned dependencies first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv serve worker clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Ports and other options of the demo: `make demo DEMO_PORT=8001 BOTS_PORT=8702`, or any option of
# `manage.py demo` with `make demo ARGS="--port 8001 --no-serve"`.
DEMO_PORT ?=
BOTS_PORT ?=
ARGS ?=
DEMO_ARGS = $(if $(DEMO_PORT),--port $(DEMO_PORT)) $(if $(BOTS_PORT),--bots-port $(BOTS_PORT)) $(ARGS)

demo: $(STAMP)
	$(PY) manage.py demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

serve: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runserver

worker: $(STAMP)
	$(PY) manage.py qcluster

clean:
	rm -rf $(VENV) var
