# Two commands do all set-up on a fresh machine:
#   make run   - install, migrate, load the bundled sample exchange, start worker + beat + web server
#   make test  - install (with test tools), lint and run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000

.PHONY: run test bench bench-share bench-scale setup clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py setup_sample

run: setup
	$(PY) manage.py run_local $(ADDR)

test: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(PY) bench/engine_bench.py
	$(PY) bench/pages_bench.py
	$(PY) bench/compute_bench.py

# Public share page under gunicorn, 1 and 32 clients (about 2 minutes); records in bench/RESULTS.md.
bench-share: $(VENV)/.dev
	$(PY) bench/share_bench.py --record

# N markets x K Celery workers on PostgreSQL + Redis at 127.0.0.1 (uses Redis dbs 14 and 15 and the
# database liqsite_bench_scale, all cleared); bounded by --total-budget. Records in bench/RESULTS.md.
bench-scale: $(VENV)/.dev
	$(PY) bench/scale_bench.py --record

clean:
	rm -rf $(VENV) var
