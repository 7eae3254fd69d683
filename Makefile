# 重大项目调度平台 — the two commands in the README (make run, make test) and their helpers.
SHELL := /bin/bash
.DEFAULT_GOAL := run
UV_VERSION := 0.13.9
PY := uv run --frozen python
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_LINK_MODE := copy

.PHONY: setup uv deps assets run test test-pg lint checks pytest browser-deps bench bench-pg bench-dispatch bench-dispatch-pg bench-alerts bench-alerts-pg clean

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"

deps: uv
	uv sync --frozen

assets:
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci --no-audit --no-fund --loglevel=error; fi
	$(PY) scripts/vendor_assets.py

setup: deps assets
	$(PY) manage.py collectstatic --noinput -v 0

run: setup
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py load_demo --if-empty
	$(PY) manage.py demo_logins
	uv run --frozen gunicorn majorprojects.wsgi:application --bind $(HOST):$(PORT) \
		--workers 3 --access-logfile - --forwarded-allow-ips 127.0.0.1

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is missing: apt-get install -y chromium" >&2; exit 1; fi; }

lint: deps
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .

checks: setup
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	DEBUG=0 SECRET_KEY=ci-deploy-check-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz SECURE=1 \
		ALLOWED_HOSTS=example.gov.cn $(PY) manage.py check --deploy --fail-level WARNING

pytest: setup browser-deps
	@set +e; uv run --frozen pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; fi; exit $$rc

test: lint checks pytest

test-pg: setup browser-deps
	scripts/with_postgres.sh $(MAKE) --no-print-directory checks pytest

bench: setup
	$(PY) bench/run.py

bench-pg: setup
	scripts/with_postgres.sh $(PY) bench/run.py --postgres

# Dispatch at province scale (50,000 projects × 60 months of reports) on SQLite; the -pg target
# runs it on a throwaway PostgreSQL 15 cluster, then the month-end burst over HTTP (gunicorn).
bench-dispatch: setup
	$(PY) bench/dispatch_scale.py

bench-dispatch-pg: setup
	scripts/with_postgres.sh $(PY) bench/dispatch_scale.py --postgres
	scripts/with_postgres.sh $(PY) bench/dispatch_burst.py --postgres

# The warning scan (预警) at province scale: the default rules over the dispatch dataset plus
# approvals, funds and problem ledgers; first scan, rerun (no change), next month.
bench-alerts: setup
	$(PY) bench/alerts_scan.py

bench-alerts-pg: setup
	scripts/with_postgres.sh $(PY) bench/alerts_scan.py --postgres

clean:
	rm -rf var majorprojects/static/vendor
