# The four commands of the README: serve, test, build, bench. Each installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# This machine's pip config names local indexes that may be absent; their warnings are noise.
QUIET_PIP := 2>&1 | { grep -v "^WARNING: Location" || true; }
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium
PORT ?= 8000
export NO_MKDOCS_2_WARNING := 1
export CHROMIUM

.PHONY: serve build test bench lint format lock clean

## Environments: a project-local venv from hashed lock files; the repo root is put on its path.
$(VENV)/.site: requirements/site.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/site.lock $(QUIET_PIP)
	$(PY) -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'explainer.pth').write_text('$(CURDIR)\n')"
	touch $@

$(VENV)/.test: $(VENV)/.site requirements/test.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/site.lock -r requirements/test.lock $(QUIET_PIP)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests, unless CHROMIUM points at one already.
chromium:
	@test -x "$(CHROMIUM)" || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }
	@command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; }

serve: $(VENV)/.site
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:$(PORT) --livereload

build: $(VENV)/.site
	$(PY) -m scripts.build_site

test: $(VENV)/.test node_modules/.installed chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.test node_modules/.installed chromium
	$(PY) -m scripts.bench

lint: $(VENV)/.test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Re-pin after editing requirements/*.in (needs uv: pip install uv).
lock:
	cd requirements && uv pip compile site.in --generate-hashes --python-version 3.11 -q -o site.lock
	cd requirements && uv pip compile test.in --generate-hashes --python-version 3.11 -q -o test.lock

clean:
	rm -rf site .build .cache docs/generated
