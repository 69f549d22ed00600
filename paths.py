"""Where everything is, in one place: the one module that knows the repository's layout.

Every package, script, benchmark and test asks here rather than working out its own
`Path(__file__).parent.parent`, so moving a folder is a one-line change. Two
locations can be moved from outside, for every process at once, by environment:
the content a deployment serves (`ITB_CONTENT_DIR`: the tests serve an edited copy)
and the fact sheets' text, which lives beside the repository, not in it
(`ITB_SOURCES_DIR`, default `../shared/sources`).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent

# What the bot says (answers, contacts, sources, red flags, approvals.lock).
CONTENT_DIR = ROOT / "content"
CONTENT_DIR_VARIABLE = "ITB_CONTENT_DIR"

# The fact sheets themselves (plain text), which the content tests check every answer against.
SOURCES_DIR = ROOT.parent / "shared" / "sources"
SOURCES_DIR_VARIABLE = "ITB_SOURCES_DIR"

# The Rasa project files, as `rasa train` / `rasa run` find them from the project root.
DOMAIN = ROOT / "domain.yml"
CONFIG = ROOT / "config.yml"
CREDENTIALS = ROOT / "credentials.yml"
ENDPOINTS = ROOT / "endpoints.yml"
NLU_DATA = ROOT / "data" / "nlu"
RULES = ROOT / "data" / "rules.yml"
MODEL = ROOT / "models" / "itb-assistant.tar.gz"

# Evaluation sets: never trained on (tests/test_understanding.py checks).
HELD_OUT_NLU = ROOT / "tests" / "nlu" / "test_nlu.yml"
# Parents' messages as they really write them (bench/realistic.py). The two development sets were read while
# the understanding was improved; the final one, written blind after them, is the benchmark's.
REALISTIC_DEVELOPMENT = (
    ROOT / "tests" / "nlu" / "realistic_parents.yml",
    ROOT / "tests" / "nlu" / "realistic_parents_2.yml",
)
REALISTIC = ROOT / "tests" / "nlu" / "realistic_parents_final.yml"
URGENCY_LISTS = ROOT / "tests" / "urgency"
TEST_STORIES = ROOT / "tests" / "test_stories.yml"

# What reports and benchmarks write (never committed).
RESULTS = ROOT / "results"

WIDGET_DIR = ROOT / "widget"

# What the people who run it deploy: images, compose, Kubernetes (docs/deploy.md), and the load balancer
# in front of several Rasa replicas (scripts/haproxy_config.py renders its template).
DEPLOY_DIR = ROOT / "deploy"
HAPROXY_TEMPLATE = DEPLOY_DIR / "haproxy" / "haproxy.cfg.template"
HAPROXY_COMPOSE_CONFIG = DEPLOY_DIR / "haproxy" / "haproxy.cfg"


def content_dir() -> Path:
    """The content every process serves: `ITB_CONTENT_DIR` if set (for all processes or none), else content/."""
    return Path(os.environ.get(CONTENT_DIR_VARIABLE) or CONTENT_DIR)


def sources_dir() -> Path:
    """Where the fact sheets' text is: `ITB_SOURCES_DIR` if set, else ../shared/sources beside the repository."""
    return Path(os.environ.get(SOURCES_DIR_VARIABLE) or SOURCES_DIR)


def all_nlu_data() -> list[Path]:
    """Every training-data file, in a stable order (the topics under data/nlu/)."""
    return sorted(NLU_DATA.glob("*.yml"))
