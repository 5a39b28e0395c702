# The four commands of the README: serve, test, build, bench. Each installs what it needs.
# `make help` lists every command (the lines with ##); the contributor guide describes each.
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
# apt-get needs root: as root (a fresh Debian machine, a container) run it; otherwise via sudo (CI).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help serve build test bench lint lock clean chromium

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
	@test -x "$(CHROMIUM)" || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core; }
	@command -v java >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq default-jre-headless; }

help: ## list these commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 10

serve: $(VENV)/.site ## live preview at http://127.0.0.1:8000/ (PORT=8001 for another port)
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:$(PORT) --livereload

build: $(VENV)/.site ## the finished static site in site/ (kept as it was if the build fails)
	$(PY) -m scripts.build_site

test: $(VENV)/.test node_modules/.installed chromium ## ruff, then every test (PYTEST_ARGS="-k data")
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.test node_modules/.installed chromium ## build times, page weight, time to chart
	$(PY) -m scripts.bench

lint: $(VENV)/.test ## fix what ruff can fix and format the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: ## re-pin requirements/*.lock after editing requirements/*.in (needs uv)
	cd requirements && uv pip compile site.in --generate-hashes --python-version 3.11 -q -o site.lock
	cd requirements && uv pip compile test.in --generate-hashes --python-version 3.11 -q -o test.lock

clean: ## remove everything built: site/, caches, docs/generated/
	rm -rf site .build .cache docs/generated
