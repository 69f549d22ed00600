"""How `make bench` scores and summarises: the figures in docs/performance.md come from these functions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench import realistic
from bench.__main__ import markdown, median_of
from bench.realistic import Message
from bench.understanding import EvaluationData, Labelled, Predictions, score, understood


def test_a_fallback_is_scored_as_the_guess_underneath_it() -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "pump_refill", "confidence": 0.4}]
    assert understood({"intent": {"name": "nlu_fallback"}, "intent_ranking": ranking}) == "pump_refill"
    assert understood({"intent": {"name": "urgent"}, "intent_ranking": ranking}) == "urgent"
    assert understood({"intent": {"name": "nlu_fallback"}, "intent_ranking": ranking[:1]}) == "nlu_fallback"


def test_scores_count_what_each_message_got() -> None:
    data = EvaluationData(
        training=Labelled([], []),
        test=Labelled(["a", "b", "c", "d"], ["greet", "greet", "thank", "thank"]),
        urgent=["u1", "u2"],
        calm=["c1", "c2", "c3", "c4"],
    )
    predictions = Predictions(
        system="s",
        train_seconds=1.0,
        test=["greet", "greet", "thank", "greet"],  # one "thank" taken for "greet"
        urgent_flagged=[True, False],
        calm_flagged=[False, False, True, False],
    )
    scores = score(predictions, data)
    assert scores.accuracy == 0.75
    assert scores.per_intent_f1 == {"greet": 0.8, "thank": round(2 / 3, 4)}
    assert abs(scores.macro_f1 - (0.8 + 2 / 3) / 2) < 1e-9
    assert (scores.urgent_caught, scores.urgent_total, scores.urgent_recall) == (1, 2, 0.5)
    assert (scores.false_alarms, scores.calm_total, scores.false_alarm_rate) == (1, 4, 0.25)


def test_repeats_are_summarised_by_their_median_keeping_texts() -> None:
    runs = [
        {"system": "x", "latency_ms": {"p50": 30.0, "p99": 90.0}, "errors": 0},
        {"system": "x", "latency_ms": {"p50": 10.0, "p99": 70.0}, "errors": 0},
        {"system": "x", "latency_ms": {"p50": 20.0, "p99": 80.0}, "errors": 2},
    ]
    assert median_of(runs) == {"system": "x", "latency_ms": {"p50": 20.0, "p99": 80.0}, "errors": 0}


def test_every_table_names_the_command_that_made_it() -> None:
    run = {"command": ".venv/bin/python -m bench --sections training", "date": "d", "machine": "m", "repeats": 3}
    table = markdown({"training": {"seconds": 39.0, "model_mib": 2.4, "repeats": [], "run": run}})
    assert "| training from scratch (`rasa train`, empty cache) | 39 s |" in table
    assert "`.venv/bin/python -m bench --sections training` (d UTC; m; median of 3 runs)" in table


def test_a_table_names_the_commit_measured_and_a_single_run_as_one() -> None:
    run = {"command": "c", "date": "d", "machine": "m", "repeats": 3, "commit": "commit abc1234"}
    curve = {"messages": 4, "window": 2, "window_p50_ms": [10.0, 11.0], "fresh_p50_ms": 9.0, "last_over_first": 1.1}
    table = markdown({"length": {"curves": {"this bot": curve}, "plot": "p.png", "run": run}})
    assert "`c` (commit abc1234; d UTC; m; one run)" in table


def test_realistic_messages_are_scored_as_the_reply_a_parent_would_get() -> None:
    messages = [
        Message("how often is it refilled", "pump_refill", "plain"),
        Message("does it hurt? and how often?", "refill_procedure", "two_questions", also="pump_refill"),
        Message("whats the pump size", "pump_location", "esl"),
        Message("whats a bolus", "trial_types", "misspelt"),
        Message("he had a fever last year, he's fine. side effects?", "side_effects", "past_event"),
        Message("can we move the refill", "dosing_advice", "long"),
        Message("HELP!!", "urgent", "plain"),
        Message("he isnt breathing", "emergency", "plain"),
    ]
    predicted = ["pump_refill", "pump_refill", "nlu_fallback", "trial_day", "urgent", "pump_refill", "urgent", "urgent"]
    answers = ["pump_refill", "refill_procedure", "pump_location", "trial_types", "trial_day", "side_effects"]
    scores = realistic.score(messages, predicted, answers)
    assert (scores.facts, scores.facts_right, scores.facts_clarified, scores.facts_urgent, scores.facts_wrong) == (
        5, 2, 1, 1, 1
    )
    assert (scores.other_handled.right, scores.other_handled.total) == (0, 1)
    assert (scores.urgent_caught.right, scores.urgent_caught.total) == (2, 2)
    assert (scores.emergency_caught.right, scores.emergency_caught.total) == (0, 1)  # the number, but not 000
    assert (scores.false_alarms.right, scores.false_alarms.total) == (1, 6)
    assert (scores.bare_cries.right, scores.bare_cries.total) == (1, 1)
    assert scores.by_style["past_event"]["false alarms"].right == 1
    assert len(scores.misses) == 5


def test_the_commit_measured_is_read_from_git_and_a_changed_tracked_file_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_main, "ROOT", tmp_path)
    assert bench_main.code_version() == "not a git checkout"

    def git(*args: str) -> str:
        command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
        return subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    (tmp_path / "tracked.txt").write_text("one\n")
    git("add", "tracked.txt")
    git("commit", "-qm", "first")
    head = git("rev-parse", "--short", "HEAD")
    (tmp_path / "untracked.txt").write_text("a scratch file\n")
    assert bench_main.code_version() == f"commit {head}"
    (tmp_path / "tracked.txt").write_text("two\n")
    assert bench_main.code_version() == f"commit {head} with uncommitted changes"
