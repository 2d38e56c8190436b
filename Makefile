# uketsuke: `make run` serves the app locally, `make test` runs every check. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

STAGE ?=

.PHONY: run test test-fast bench templates catalogs lint pytest deps tools browser load-events deploy destroy replay-mail package check-stage clean

run: deps ## Serve the app on http://localhost:8000 with a mail viewer on :8025 (Ctrl-C stops all)
	$(PY) -m local.run $(RUN_ARGS)

test: lint pytest ## Lint, type-check and run the whole test suite on the local engines

pytest: deps browser
	$(PY) -m pytest

test-fast: $(PIP_STAMP) ## While working: lint, types and the tests that need no engine or browser (under a minute)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -m "not engines and not browser and not slow"

bench: deps templates ## Measure cold start, cost per registration, flash crowd, reminder fan-out, zip size
	$(PY) -m bench.run

templates: $(PIP_STAMP) ## Compile the Jinja templates ahead of packaging (saves ~70 ms of a cold start)
	$(PY) -m chalicelib.text.templating

catalogs: $(PIP_STAMP) ## After changing any text: extract it, merge it into the English catalog, compile (then translate what is new)
	mkdir -p build
	$(VENV)/bin/pybabel extract --no-location --sort-output -F babel.cfg -k N_ --project=uketsuke --version=main --copyright-holder="uketsuke developers" -o build/messages.pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i build/messages.pot -d chalicelib/locale -l en
	$(VENV)/bin/pybabel compile -d chalicelib/locale -l en

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

replay-mail: check-stage $(PIP_STAMP) ## After fixing why mail failed: send all unsent mail of STAGE now, clear its dead letters
	$(PY) -m deploy replay-mail --stage $(STAGE)

package: check-stage $(PIP_STAMP) ## Build STAGE's template and zip into build/STAGE/ without touching AWS
	$(PY) -m deploy package --stage $(STAGE)

check-stage:
	@test -n "$(STAGE)" || { echo "Name the stage, e.g. make $(MAKECMDGOALS) STAGE=prod (its settings: deploy/stages/prod.toml)" >&2; exit 1; }

deps: $(PIP_STAMP) $(NPM_STAMP) tools

tools:
	@command -v java >/dev/null 2>&1 || { echo "Java 17 is needed for DynamoDB Local. Install it, e.g.: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
	@command -v node >/dev/null 2>&1 || { echo "Node.js 20 and npm are needed to install DynamoDB Local. Install them, e.g.: apt-get install nodejs npm" >&2; exit 1; }

browser:
	@test -x /usr/bin/chromium || { echo "The browser tests drive Debian's Chromium. Install it with Japanese fonts: apt-get install chromium fonts-noto-cjk" >&2; exit 1; }

$(PIP_STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || { echo "uketsuke needs Python 3.11 or newer (3.11 to 3.14 to deploy); $(PYTHON) is $$($(PYTHON) -V 2>&1). Run: make clean && make PYTHON=python3.12 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json | tools
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) node_modules build .pytest_cache .mypy_cache .ruff_cache
