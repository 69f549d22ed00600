"""Rasa's own conversation tests, run from pytest so `make test` reports them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.servers import server_env
from paths import ROOT


def test_stories_follow_the_rules(model_path: Path, tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--stories",
            "tests/test_stories.yml",
            "--model",
            str(model_path),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else completed.stdout[-3000:] + completed.stderr[-3000:]
    assert completed.returncode == 0, details
