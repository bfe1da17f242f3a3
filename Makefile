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

demo: $(STAMP)
	$(PY) manage.py demo

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
