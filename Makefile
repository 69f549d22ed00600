# Wraps the usual Rasa commands (rasa train / run / shell / test); every target
# first makes sure the environment and the model are up to date.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export RASA_TELEMETRY_ENABLED := false
# Quieter TensorFlow start-up messages.
export TF_CPP_MIN_LOG_LEVEL := 2

VENV   := .venv
BIN    := $(VENV)/bin
# Python 3.10 for the environment: found by scripts/find-python.sh unless given (make run PYTHON=...).
PYTHON ?=
MODEL  := models/itb-assistant.tar.gz
# What the model is trained from: a change to any of these retrains it.
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml')
# The web chat widget: one bundled script, built from widget/src with npm.
WIDGET := widget/dist/itb-chat.js
NPM_INSTALLED := widget/node_modules/.package-lock.json
WIDGET_INPUTS := widget/build.mjs $(wildcard widget/src/*) content/answers.yml content/contacts.yml \
	actions/content.py scripts/export_widget_content.py

.PHONY: help install train widget chromium run shell test clean

help:
	@echo "make run     set up, train if needed, and start the assistant"
	@echo "make test    set up, train if needed, and run every check"
	@echo "make install | train | widget | shell | clean"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@python="$(PYTHON)"; [ -n "$$python" ] || python="$$(scripts/find-python.sh)" || exit 1; \
	  echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@# Also off for `rasa ...` typed by hand, not only under make.
	$(BIN)/rasa telemetry disable
	@touch $@

train: $(MODEL)

$(MODEL): $(TRAINING_INPUTS) | install
	$(BIN)/rasa train --fixed-model-name itb-assistant
	@touch $@

widget: $(WIDGET)

$(NPM_INSTALLED): widget/package.json widget/package-lock.json
	@command -v npm >/dev/null || { echo "The chat widget is built with Node.js 18 or newer and npm:" \
	  "install them (Debian: apt-get install nodejs npm) and run make again." >&2; exit 1; }
	cd widget && npm ci --no-audit --no-fund
	@touch $@

$(WIDGET): $(NPM_INSTALLED) $(WIDGET_INPUTS) | install
	@# The notice and phone numbers the widget shows even with no server, from content/.
	$(BIN)/python scripts/export_widget_content.py widget/build/content.json
	cd widget && npm run --silent build

# Debian's Chromium for the browser tests (Playwright's own download doesn't work here).
chromium:
	@scripts/install-chromium.sh

run: install $(MODEL) $(WIDGET)
	@scripts/run.sh

shell: install $(MODEL)
	@scripts/shell.sh

test: install $(MODEL) $(WIDGET) chromium
	$(BIN)/ruff check .
	$(BIN)/rasa data validate --fail-on-warnings
	$(BIN)/pytest

clean:
	rm -rf $(VENV) models results .pytest_cache .ruff_cache *.egg-info widget/node_modules widget/dist widget/build
