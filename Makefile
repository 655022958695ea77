# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# What Orchestra needs to run (requirements.txt), and that plus what its tests need
# (requirements-test.txt).
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
TEST_STAMP := $(VENV)/.installed-test-$(shell cat requirements.txt requirements-test.txt | cksum | cut -d' ' -f1)

.PHONY: run test bench chromium clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-[0-9]*
	touch $@

$(TEST_STAMP): requirements.txt requirements-test.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-test.txt
	rm -f $(VENV)/.installed-*
	touch $@ $(STAMP)

PORT ?= 8000

run: $(STAMP)
	$(PY) manage.py runlocal --port $(PORT)

# Browser tests drive Debian's chromium; Playwright's own browser download does not work here.
chromium:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		{ echo "Installing Debian's chromium for the browser tests"; \
		  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		  || sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'; }

# The whole suite on SQLite, then the tests whose behaviour depends on the database on each
# server database (tests/environment.py; mongodb: a SecantusDB server the session starts).
SERVER_DATABASES ?= postgresql mariadb mongodb

test: $(TEST_STAMP) chromium
	$(PY) -m pytest
	for database in $(SERVER_DATABASES); do \
		ORCHESTRA_TEST_DATABASE=$$database $(PY) -m pytest -m database || exit 1; \
	done

# Every benchmark, one table against the performance targets (bench/README.md). BENCH_OPTIONS:
# --quick for a rough run in minutes; HISTORY="1000 1000000" for the target's history (long fill).
HISTORY ?= 1000 100000
BENCH_OPTIONS ?=

bench: $(STAMP)
	$(PY) bench/targets.py --history $(HISTORY) $(BENCH_OPTIONS)

clean:
	rm -rf $(VENV) data .pytest_cache
