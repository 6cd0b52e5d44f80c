# Klartext – make run | make test | make train | make shell | make bench
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
RASA    := $(VENV)/bin/rasa
STAMP   := $(VENV)/.installed
SPACY   := nlp/de_blank/config.cfg
MODEL_STAMP := models/.trained
WEB_STAMP := web/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium
HAPROXY ?= /usr/sbin/haproxy
TRAIN_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) $(SPACY)

# Python 3.10: python3.10 if it really runs, else pyenv's 3.10.x (see DEVELOPERS.md).
PYTHON310 ?= $(shell \
  if python3.10 -c 'import sys' >/dev/null 2>&1; then command -v python3.10; \
  else root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); ls -d $$root/versions/3.10.*/bin/python 2>/dev/null | sort -V | tail -n 1; fi)

export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore::DeprecationWarning

.PHONY: help setup train run serve shell test test-unit test-rasa bench clean stories browser lint format haproxy

help:
	@echo "make run    – set up, train if needed, start action server + Rasa server + web chat"
	@echo "make serve  – production start; refuses while a door is open (docs/security.md)"
	@echo "make test   – set up and run the whole test suite (what CI runs)"
	@echo "make train  – train the model into models/"
	@echo "make shell  – chat with the coach in the terminal"
	@echo "make bench  – latency, throughput, memory and NLU figures vs. a stock Rasa bot; 2 vs 1 replicas behind HAProxy"
	@echo "make lint   – ruff (lint rules and format check), as the first step of make test"
	@echo "make format – format the code and apply ruff's safe fixes"

setup: $(STAMP) $(SPACY) $(WEB_STAMP)

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "Python 3.10 wurde nicht gefunden (Rasa 3.6 braucht genau 3.10)." >&2; \
	  echo "Installiere es z. B. mit 'pyenv install 3.10.13' oder 'apt install python3.10 python3.10-venv'," >&2; \
	  echo "oder gib den Pfad an: make PYTHON310=/pfad/zu/python3.10 ..." >&2; exit 1; fi
	@echo "Using $(PYTHON310)"
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25" wheel "setuptools<71"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

$(SPACY): | $(STAMP)
	$(PY) -c "from bot.nlp import save_blank_de; print('spaCy pipeline saved to', save_blank_de())"

# Web chat widget assets (socket.io-client) and the browser driver (playwright-core, no
# browser download) from the npm registry, as pinned in web/package-lock.json.
$(WEB_STAMP): web/package.json web/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  (cd web && npm ci --no-audit --no-fund --loglevel=error) && touch $(WEB_STAMP); \
	else \
	  echo "Hinweis: npm fehlt – der Web-Chat (web/) und sein Browser-Test brauchen Node.js und npm." >&2; \
	fi

# Debian's Chromium for the browser test (tests/test_webchat_browser.py); only when missing.
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installiere Chromium für den Browser-Test (apt-get install chromium) …"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
	    >/dev/null 2>&1 || echo "Hinweis: Chromium konnte nicht installiert werden; der Browser-Test wird übersprungen." >&2; \
	else \
	  echo "Hinweis: kein apt-get (oder nicht root) – Chromium fehlt, der Browser-Test wird übersprungen." >&2; \
	fi

# Debian's HAProxy for the replica load/fault tests (tests/test_replicas.py); only when missing.
haproxy:
	@if [ -x "$(HAPROXY)" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installiere HAProxy für die Replika-Tests (apt-get install haproxy) …"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy) \
	    >/dev/null 2>&1 || echo "Hinweis: HAProxy konnte nicht installiert werden; die Replika-Tests werden übersprungen." >&2; \
	else \
	  echo "Hinweis: kein apt-get (oder nicht root) – HAProxy fehlt, die Replika-Tests werden übersprungen." >&2; \
	fi

$(MODEL_STAMP): $(TRAIN_INPUTS) | $(STAMP)
	$(RASA) train --fixed-model-name klartext
	touch $(MODEL_STAMP)

train: setup
	$(RASA) train --fixed-model-name klartext
	touch $(MODEL_STAMP)

run: setup $(MODEL_STAMP)
	$(PY) -m devtools.run

# Production start: refuses (naming the missing setting) while a door would be open.
serve: setup
	$(PY) -m devtools.serve --check
	$(MAKE) --no-print-directory $(MODEL_STAMP)
	$(PY) -m devtools.serve

shell: setup $(MODEL_STAMP)
	$(PY) -m devtools.run --shell

# The lint gate: ruff's rules (pyproject.toml) and its formatter, checked, never rewritten here.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup lint browser haproxy $(MODEL_STAMP)
	$(RASA) data validate --quiet
	$(PY) -m pytest -q
	$(RASA) test core --stories tests/stories --fail-on-prediction-errors --out var/results/core

# then 2 Rasa replicas vs 1 behind HAProxy, 200 conversations x 10 turns, with the kill and
# PostgreSQL-outage runs (devtools/bench_replicas.py; BENCH_REPLICAS_ARGS to change the size)
bench: setup haproxy $(MODEL_STAMP)
	$(PY) -m devtools.bench $(BENCH_ARGS)
	$(PY) -m devtools.bench_replicas --kill --postgres $(BENCH_REPLICAS_ARGS)

stories: setup
	$(PY) -m devtools.make_stories

# Teams app package (manifest.json + icons) from .env: KLARTEXT_TEAMS_APP_ID, KLARTEXT_PUBLIC_URL.
.PHONY: teams-package
teams-package: setup
	$(PY) -m devtools.teams_package

clean:
	rm -rf models var/results var/log
