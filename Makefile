# uketsuke: `make run` serves the app locally, `make test` runs every check. Both install what they need.
# The newest Python that both Lambda and uketsuke run, of those this machine has: Chalice packages the
# functions for the Python that runs it, so a deploy gets the newest runtime (deploy/preflight.py's dates).
# A candidate counts only if it runs and can make a virtual environment (a pyenv shim may name a Python
# that is not installed).
PYTHON ?= $(firstword $(shell for v in 3.14 3.13 3.12 3.11; do python$$v -c 'import ensurepip, venv' 2>/dev/null && echo python$$v; done) python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

STAGE ?=
EASY_PO := chalicelib/locale/easy/LC_MESSAGES/messages.po
ABROAD := zh ko vi pt

# Tests run side by side (pytest-xdist), one worker more than the cores: much of a test is waiting for an
# engine's answer or a subprocess, so as many workers as cores left the cores idle a quarter of the time.
# The browser and package suites each keep to one worker of their own (their xdist_group), so they never
# compete with themselves. In a random order each run (pytest-randomly prints its seed first:
# `make pytest PYTEST_ARGS="-p randomly --randomly-seed=N"`). getconf counts cores on Linux and macOS alike.
WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
PYTEST_ARGS ?=
N ?= 20

.PHONY: run test test-fast test-repeat screenshots bench templates accessibility-report catalogs lint pytest deps system-run system-test load-events deploy destroy replay-mail replay-jobs package check-stage clean

run: deps ## Serve the app on http://localhost:8000 with a mail viewer on :8025 (Ctrl-C stops all)
	$(PY) -m local.run $(RUN_ARGS)

test: system-test lint pytest ## Install what is missing, lint, type-check and run every test on the local engines

pytest: deps system-test
	$(PY) -m pytest -n $(WORKERS) --dist loadgroup --durations=15 $(PYTEST_ARGS)

test-repeat: deps system-test ## The browser tests N times in a row (default 20); stops at the first red run
	@for i in $$(seq 1 $(N)); do \
	  echo "== browser tests, run $$i of $(N)"; \
	  $(PY) -m pytest -q -p no:randomly -m browser $(PYTEST_ARGS) || exit 1; \
	done; echo "$(N) of $(N) runs green"

screenshots: deps system-test ## Retake the documentation's screenshots (the browser tests) and copy them into docs/
	rm -rf build/screenshots
	$(PY) -m pytest -q -m browser
	cp build/screenshots/*.png docs/screenshots/

test-fast: $(PIP_STAMP) ## While working: lint, types and the tests that need no engine or browser (under a minute)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -m "not engines and not browser and not slow and not npm"

bench: deps templates ## Measure cold start, cost per registration, flash crowd, reminder and reconfirmation fan-out, zip size
	$(PY) -m bench.run

templates: $(PIP_STAMP) ## Compile the Jinja templates ahead of packaging (saves ~70 ms of a cold start)
	$(PY) -m chalicelib.templating

accessibility-report: deps ## Write docs/accessibility.ja.md, the JIS X 8341-3 test report, from the checks the tests make
	$(PY) -m tests.accessibility_report

catalogs: $(PIP_STAMP) ## After changing any text: extract it, merge it into the English catalog, compile (then translate what is new)
	mkdir -p build
	$(VENV)/bin/pybabel extract --no-location --sort-output -F babel.cfg -k N_ --project=uketsuke --version=main --copyright-holder="uketsuke developers" -o build/messages.pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i build/messages.pot -d chalicelib/locale -l en
	$(VENV)/bin/pybabel compile -d chalicelib/locale -l en
	@# やさしい日本語 has no locale of its own: Japanese rules (one plural form), in its own folder.
	mkdir -p chalicelib/locale/easy/LC_MESSAGES
	test -f $(EASY_PO) || $(VENV)/bin/pybabel init -i build/messages.pot -l ja -o $(EASY_PO)
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i build/messages.pot -l ja -o $(EASY_PO)
	$(VENV)/bin/pybabel compile -i $(EASY_PO) -o chalicelib/locale/easy/LC_MESSAGES/messages.mo -l ja
	@# The languages of residents from abroad: each its own folder, named as the site names the language.
	for lang in $(ABROAD); do \
	  po=chalicelib/locale/$$lang/LC_MESSAGES/messages.po; mkdir -p $$(dirname $$po); \
	  test -f $$po || $(VENV)/bin/pybabel init -i build/messages.pot -l $$lang -o $$po || exit 1; \
	  $(VENV)/bin/pybabel update --no-fuzzy-matching -i build/messages.pot -l $$lang -o $$po || exit 1; \
	  $(VENV)/bin/pybabel compile -i $$po -o $${po%.po}.mo -l $$lang || exit 1; \
	done
	$(PY) -m local.ruby_catalogs build/messages.pot

lint: $(PIP_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

load-events: $(PIP_STAMP) ## Load events/*.toml into the running make run (or the table UKETSUKE_TABLE_NAME names)
	$(PY) manage.py load-events events/*.toml

deploy: check-stage $(PIP_STAMP) ## Create or update STAGE in your AWS account (settings: deploy/stages/STAGE.toml)
	$(PY) -m deploy deploy --stage $(STAGE)

destroy: check-stage $(PIP_STAMP) ## Delete STAGE's stack; its table of registrations is kept unless DELETE_DATA=yes
	$(PY) -m deploy destroy --stage $(STAGE) $(if $(filter yes,$(DELETE_DATA)),--delete-data) $(if $(filter yes,$(YES)),--yes)

replay-jobs: check-stage $(PIP_STAMP) ## After fixing why a job failed (its alarm): run every job once now, clear its dead letters
	$(PY) -m deploy replay-jobs --stage $(STAGE)

replay-mail: check-stage $(PIP_STAMP) ## After fixing why mail failed: send all unsent mail of STAGE now, clear its dead letters
	$(PY) -m deploy replay-mail --stage $(STAGE)

package: check-stage $(PIP_STAMP) ## Build STAGE's template and zip into build/STAGE/ without touching AWS
	$(PY) -m deploy package --stage $(STAGE)

check-stage:
	@test -n "$(STAGE)" || { echo "Name the stage, e.g. make $(MAKECMDGOALS) STAGE=prod (its settings: deploy/stages/prod.toml)" >&2; exit 1; }

deps: system-run $(PIP_STAMP) $(NPM_STAMP)

# The machine's own packages (Java, Node/npm; for the tests Chromium and Japanese fonts): installed with
# apt-get when run as root, otherwise the exact command to run is printed. One script, also used by CI.
system-run:
	@bash local/system-packages.sh run

system-test:
	@bash local/system-packages.sh test

$(PIP_STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || { echo "uketsuke needs Python 3.11 or newer (3.11 to 3.14 to deploy); $(PYTHON) is $$($(PYTHON) -V 2>&1). Run: make clean && make PYTHON=python3.12 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	# chalice 1.34 packages the Lambda zip with pip and declares pip<26.3.
	$(PY) -m pip install --quiet --upgrade "pip<26.3"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json | system-run
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) node_modules build .pytest_cache .mypy_cache .ruff_cache
