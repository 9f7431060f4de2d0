# Mali History: `make run` serves the demo on 127.0.0.1:8000, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python >= 3.12 found: on PATH, then in pyenv's versions.
PYTHON_BASE := $(shell for c in python3.14 python3.13 python3.12 python3; do \
	  p=$$(command -v $$c 2>/dev/null) && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; exit; }; \
	done; \
	root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
	for p in $$(ls -d $$root/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; exit; }; \
	done)

.PHONY: run test setup demo demo-passwords serve worker check clean messages

$(VENV)/.installed: requirements.txt
	@if [ -z "$(PYTHON_BASE)" ]; then \
	  echo "Mali History needs Python 3.12 or newer, and none was found."; \
	  echo "Install one, e.g. 'pyenv install 3.13' or 'apt-get install python3.13 python3.13-venv', then run make again."; \
	  exit 1; fi
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then rm -rf $(VENV); fi
	@[ -x $(PY) ] || $(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Tests and tools on top (requirements-dev.txt): only `make test` and `make lint` need them.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

# load_demo prints the demo's links for the address served (HOST, PORT), and the accounts'
# passwords when it creates them. `make demo-passwords` gives the demo accounts new ones.
demo: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo --host $(HOST) --port $(PORT)

demo-passwords: setup
	$(PY) manage.py load_demo --host $(HOST) --port $(PORT) --reset-passwords

# Background tasks (django.tasks) need a worker: `make run` and `make serve` start one beside the
# server and stop it when the server stops (Ctrl+C). A task still running then is cut short: it
# is marked failed, or, under `make run`, where the worker restarts on code changes as runserver
# does, left "Running". WORKER_ARGS go to manage.py db_worker, e.g. WORKER_ARGS="--interval 5".
WORKER_ARGS ?= --interval 0.5
WORKER := $(PY) manage.py db_worker $(WORKER_ARGS)
WITH_WORKER := $(WORKER) & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT;

# Links in e-mails (DJANGO_SITE_URL) point at the server started here, unless set otherwise.
run: demo
	export DJANGO_SITE_URL=$${DJANGO_SITE_URL:-http://$(HOST):$(PORT)}; $(WITH_WORKER) $(PY) manage.py runserver $(HOST):$(PORT)

# A worker on its own, on a migrated database, e.g. beside a server started another way. In
# production, run one or more as services (deploy/mali-history-worker.service).
worker: setup
	$(WORKER)

test: setup-dev
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

# The format and the lint rules (pyproject.toml); CI runs this before the tests.
lint: setup-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: setup-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Production-like serving: gunicorn with DJANGO_DEBUG=0 (set DJANGO_SECRET_KEY first).
serve: setup
	DJANGO_DEBUG=0 $(PY) manage.py collectstatic --noinput
	export DJANGO_DEBUG=0; $(WITH_WORKER) $(VENV)/bin/gunicorn -c mali_history/gunicorn.conf.py --bind $(HOST):$(PORT)

check: setup
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-check-only-$$(date +%s)-not-a-real-key-0123456789abcdef} \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Translators: refresh the French catalogues from the code, then compile them (needs gettext:
# apt-get install gettext). The compiled .mo files are committed, so setup never needs gettext.
MESSAGES_IGNORE := --ignore=.venv --ignore=bench --ignore=tests --ignore=staticfiles --ignore=media --ignore=deploy --ignore=docs --ignore=test-artifacts
messages: setup
	$(PY) manage.py makemessages -l fr --add-location=file --no-obsolete $(MESSAGES_IGNORE)
	$(PY) manage.py makemessages -d djangojs -l fr --add-location=file --no-obsolete $(MESSAGES_IGNORE)
	$(PY) manage.py compilemessages -l fr --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles
