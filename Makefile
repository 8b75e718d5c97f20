# The two commands of the README: `make run` and `make test`. Only Python 3.11 is needed beforehand.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run test lint bench bench-deadlines bench-audience bench-appeals bench-sweep bench-lists bench-webhooks bench-rollups bench-reach bench-desk bench-exports messages schema clean

# The venv is rebuilt when a requirements file changes (the stamp is older).
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py seed_demo
	OTKLIK_PUBLIC_URL=$${OTKLIK_PUBLIC_URL:-http://127.0.0.1:$(PORT)} $(PY) manage.py devserver --port $(PORT)

test: $(VENV)/.installed
	bash bin/test

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

schema: $(VENV)/.installed
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

bench: bench-deadlines bench-audience bench-appeals bench-sweep bench-lists bench-webhooks bench-rollups bench-reach bench-desk

bench-deadlines: $(VENV)/.installed
	$(PY) -m bench.deadlines

bench-audience: $(VENV)/.installed
	$(PY) -m bench.audience_upsert

bench-appeals: $(VENV)/.installed
	$(PY) -m bench.appeal_create

bench-sweep: $(VENV)/.installed
	$(PY) -m bench.sla_sweep

# Keeps its two databases (50,000 and 5,000,000 appeals) for the next run; `BENCH_ARGS=--rebuild` builds them afresh.
bench-lists: $(VENV)/.installed
	$(PY) -m bench.lists $(BENCH_ARGS)

bench-webhooks: $(VENV)/.installed
	$(PY) -m bench.webhooks

bench-rollups: $(VENV)/.installed
	$(PY) -m bench.rollups

bench-reach: $(VENV)/.installed
	$(PY) -m bench.reach

# Keeps its database of 1,000,000 appeals for the next run; `BENCH_ARGS=--rebuild` builds it afresh.
bench-desk: $(VENV)/.installed
	$(PY) -m bench.desk_queue $(BENCH_ARGS)
# Keeps its database (1,000,000 overdue appeals) for the next run; `BENCH_ARGS=--rebuild` builds it afresh.
bench-exports: $(VENV)/.installed
	$(PY) -m bench.exports $(BENCH_ARGS)

messages: $(VENV)/.installed
	$(PY) manage.py makemessages --locale ru --ignore ".venv/*" --ignore "bench/*" --ignore "tests/*"
	$(PY) manage.py compilemessages --ignore ".venv/*"

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles
