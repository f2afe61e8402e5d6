# OpsDesk — the two commands are `make run` and `make test`. `make check` is the fast inner loop; the rest are
# helpers.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Test services on loopback (started by `make services`; left alone if already running).
TEST_DATABASE_URL ?= postgresql://test:test@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379
IMAP_DIR ?= $(CURDIR)/var/test-imap
IMAP_PORT ?= 10143
IMAPS_PORT ?= 10993
IMAP_USERS ?= alerts:alerts-secret poller2:poller2-secret bench:bench-secret
# `make run`, the tests and the benchmarks serve plain HTTP on loopback (DJANGO_DEBUG=false would otherwise
# mean HTTPS only), and a DATABASE_URL needs a real key: settings refuse the development key with one.
TEST_SECRET_KEY ?= opsdesk-test-suite-only-key-never-used-in-production-0123456789
run test check bench: export DJANGO_HTTPS = false
# The port of `make run`'s web process; honcho hands it to the first process (web) as $PORT.
PORT ?= 8000
run: export PORT := $(PORT)
# `make run` has no Redis: its worker and beat (deploy/Procfile.dev) use kombu's file-system transport.
run: export CELERY_BROKER_URL = filesystem://
test check bench: export DJANGO_SECRET_KEY = $(TEST_SECRET_KEY)

.PHONY: run test check install services check-services bench lint messages clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
# python-ldap (django-auth-ldap) has no Linux wheel: it compiles against the OpenLDAP and SASL headers.
	test -f /usr/include/ldap.h -a -f /usr/include/sasl/sasl.h || bash deploy/local/install-slapd.sh >/dev/null
	$(PY) -m pip install -q -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

## run: set up and run the desk on the embedded defaults (SQLite, in-process tasks) at http://127.0.0.1:8000
## (another port: `make run PORT=8080` or `PORT=8080 make run`)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_org --scale demo
	@echo "OpsDesk on http://127.0.0.1:$(PORT) — log in with one of the demo logins above (Ctrl-C stops)"
	exec $(VENV)/bin/honcho -f deploy/Procfile.dev start

## services: make sure PostgreSQL, Redis, Dovecot, Chromium and Alertmanager are there for the tests
services: check-services
	IMAPS_PORT=$(IMAPS_PORT) bash deploy/local/start-dovecot.sh $(IMAP_DIR) $(IMAP_PORT) $(IMAP_USERS) >/dev/null
	bash deploy/local/install-browser.sh >/dev/null
	bash deploy/local/install-alertmanager.sh >/dev/null
	bash deploy/local/install-nginx.sh >/dev/null

# What `make check` needs: PostgreSQL, Redis (two metrics tests read queue depths), promtool and slapd.
check-services:
	bash deploy/local/start-postgres.sh test test test
	bash deploy/local/start-redis.sh 6379
	bash deploy/local/install-promtool.sh >/dev/null
	bash deploy/local/install-slapd.sh >/dev/null  # slapd for the directory-login tests, headers for python-ldap

## test: set up everything and run the whole suite against real services (the layer contract included:
## tests/project/test_layers.py runs it)
test: install services
	DATABASE_URL=$(TEST_DATABASE_URL) OPSDESK_TEST_REDIS_URL=$(TEST_REDIS_URL) \
	OPSDESK_TEST_IMAP_DIR=$(IMAP_DIR) OPSDESK_TEST_IMAP_PORT=$(IMAP_PORT) OPSDESK_TEST_IMAPS_PORT=$(IMAPS_PORT) \
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## bench: run every benchmark in tests/bench and write var/bench/results.json
bench: install services
	DATABASE_URL=$(TEST_DATABASE_URL) OPSDESK_TEST_REDIS_URL=$(TEST_REDIS_URL) \
	OPSDESK_TEST_IMAP_DIR=$(IMAP_DIR) OPSDESK_TEST_IMAP_PORT=$(IMAP_PORT) \
	$(PY) -m tests.bench $(BENCH_ARGS)

## check: the fast inner loop: ruff, the layer contract, and every test but the browser, IMAP and Celery ones
check: install check-services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	DATABASE_URL=$(TEST_DATABASE_URL) OPSDESK_TEST_REDIS_URL=$(TEST_REDIS_URL) \
	$(VENV)/bin/pytest -m "not browser and not imap and not celery and not deploy" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

## messages: refresh the translation catalogues after changing user-visible strings
messages: install
	for app in opsdesk workflow notifications tickets alerts reports; do \
	  (cd $$app && ../$(PY) ../manage.py makemessages -l zh_Hans --no-obsolete >/dev/null); done
	$(PY) manage.py compilemessages -l zh_Hans --ignore '.venv/*' >/dev/null

## lock: pin every dependency with hashes in requirements/ (one universal resolution: Linux x86_64 and aarch64,
## CPython 3.11). Run it after changing pyproject.toml's dependencies: tests/project/test_lockfile.py fails until then.
## runtime.txt is what the image installs (deploy/Dockerfile), dev.txt adds the test and dev extras, build.txt
## is what builds the project's own wheel (pyproject's build-system) offline.
.PHONY: lock
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock'
lock: install
	mkdir -p requirements
	$(UV_COMPILE) pyproject.toml -o requirements/runtime.txt
	$(UV_COMPILE) pyproject.toml --extra test --extra dev -c requirements/runtime.txt -o requirements/dev.txt
	$(PY) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	  | $(UV_COMPILE) - -o requirements/build.txt

clean:
	rm -rf var/opsdesk.sqlite3 var/static var/test-imap
