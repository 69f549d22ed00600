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

.PHONY: help install train run shell test clean

help:
	@echo "make run     set up, train if needed, and start the assistant"
	@echo "make test    set up, train if needed, and run every check"
	@echo "make install | train | shell | clean"

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

run: install $(MODEL)
	@scripts/run.sh

shell: install $(MODEL)
	@scripts/shell.sh

test: install $(MODEL)
	$(BIN)/ruff check .
	$(BIN)/rasa data validate --fail-on-warnings
	$(BIN)/pytest

clean:
	rm -rf $(VENV) models results .pytest_cache .ruff_cache
