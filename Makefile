# The two commands: `make run` serves the product on embedded defaults; `make test` runs every check.
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test setup lint bench clean-data

run: setup
	$(PY) manage.py serve --port $(PORT)

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

setup: $(VENV)/.installed node_modules/.installed

# Re-installs only when requirements.txt changes, so re-running is fast.
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || { python=$$(scripts/find-python) && echo "creating $(VENV) with $$python" && "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# The pages' front-end libraries (package.json, pinned by package-lock.json); again only when the lock changes.
node_modules/.installed: package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 18 or newer (with npm) is needed to install the pages' libraries: apt-get install nodejs npm, or https://nodejs.org"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: setup
	$(VENV)/bin/ruff check .

# Every benchmark, one after another (a few minutes); each prints its figures and targets.
bench: setup
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean-data:
	rm -rf var/pgdata var/market_data
