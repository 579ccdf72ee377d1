# The two commands of the README: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.kb-installed
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export NO_MKDOCS_2_WARNING := 1

.PHONY: install system-deps node-deps demo build serve test lint bench clean

install: $(STAMP) system-deps node-deps

# torch first and pinned: a plain `torch` requirement would pull gigabytes of CUDA wheels.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

# Debian packages: Chromium for browser tests and screenshots, espeak-ng for sample narration,
# PostgreSQL for the analytics store tests. Skipped in seconds when already present.
system-deps:
	@bash scripts/install-system-deps.sh

# npm tools for tests and benchmarks (axe-core, Lighthouse), exactly as package-lock.json pins
# them; reinstalled only when the lock file changes.
NODE_STAMP := node_modules/.kb-installed
node-deps: $(NODE_STAMP)
$(NODE_STAMP): package.json package-lock.json | system-deps
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

build: install
	$(VENV)/bin/mkdocs build --strict

# The sample help center, eight weeks of simulated shoppers and calls, the dashboard in
# report/index.html, and the site + API + widget + demo shop at http://localhost:$(PORT)
demo: install
	$(VENV)/bin/mkdocs build
	$(VENV)/bin/kb demo-traffic --db sqlite:///analytics.db --replace
	$(VENV)/bin/kb report --db sqlite:///analytics.db --out report
	@echo "Help center: http://localhost:$(PORT)/   demo shop: http://localhost:$(PORT)/examples/shop/   dashboard: report/index.html"
	KB_CONTACT_EMAIL=help@nodihome.example KB_CONTACT_PHONE="+880 9610-000000" \
	KB_CONTACT_WHATSAPP=8801700000000 KB_CONTACT_MESSENGER=nodihome KB_TIMEZONE=Asia/Dhaka \
	KB_CONTACT_HOURS="Sat-Thu 09:00-21:00; email=24/7" KB_CONTACT_REPLY_TIME="whatsapp=15m; email=1d" \
	KB_ASSISTANT_NAME="Nodi Help" \
	$(VENV)/bin/kb serve --host 127.0.0.1 --port $(PORT) --demo-shop --database-url sqlite:///analytics.db

test: install
	bash scripts/run-tests.sh

lint: install
	$(VENV)/bin/ruff check kb_tools tests bench scripts

bench: install
	$(PY) -m bench

clean:
	rm -rf site search_index/* .kb_cache build *.egg-info
