# The two commands: `make run` serves the product on embedded defaults; `make test` runs every check.
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
CODEMIRROR := var/build/vendor/codemirror/codemirror.js

.PHONY: run test setup lint bench clean-data cluster declarations

run: setup
	$(PY) manage.py serve --port $(PORT)

# Several processes on this machine: Pushpin on PORT in front of N app processes, Redis, PostgreSQL
# (docs/deployment.md). Needs Debian's pushpin and redis-server (or REDIS_URL).
N ?= 2
cluster: setup
	$(PY) manage.py cluster --processes $(N) --port $(PORT)

# pytest runs in parallel (pytest-xdist; the worker count is in pyproject.toml): PYTEST_ARGS="-n 0" runs in
# one process, PYTEST_ARGS="tests/pages -k login" a part.
test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed node_modules/.installed $(CODEMIRROR)

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

# The JSON editor's CodeMirror, bundled by esbuild (pinned in package.json) into a git-ignored folder.
$(CODEMIRROR): node_modules/.installed frontend/codemirror.js
	npm run --silent build

# static/livesim/livesim.d.ts, the TypeScript declarations of the stream events and REST API, from the
# server's definitions (docs/protocol.md, "TypeScript declarations"); a test fails while it is stale.
declarations: setup
	$(PY) manage.py typescript_declarations

lint: setup
	$(VENV)/bin/ruff check .

# Every benchmark, one after another (a few minutes); each prints its figures and targets.
bench: setup
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean-data:
	rm -rf var/pgdata var/market_data
