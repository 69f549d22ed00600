"""Where a turn's time goes in the Rasa server: py-spy samples it while parents talk to it.

    .venv/bin/python -m bench.profile [--at-once 10] [--conversations 30] [--messages 10]

Starts the servers (as `make bench` does), warms them up, then samples the Rasa server with py-spy
while the conversations run over REST, `--at-once` at a time. Prints, for each stage of a turn,
its share of the samples taken inside a turn and the milliseconds per message it stands for, and
writes the raw stacks to results/bench/profile.txt (collapsed format, for any flame-graph tool).
Shares are inclusive: a stage's figure contains the stages nested in it.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

from bench.load import draw_conversations
from bench.speed import level
from connectors.guard import DEFAULT_REPLY_DEADLINE, REPLY_DEADLINE_ENV
from harness.servers import start_stack
from paths import MODEL, RESULTS, ROOT

OUT = RESULTS / "bench"
RATE = 250  # samples a second
# (label, a frame's function name, the end of its file's path): the first frame that matches marks the stage.
STAGES: List[Tuple[str, str, str]] = [
    ("whole turn (Rasa's MessageProcessor.handle_message)", "handle_message", "rasa/core/processor.py"),
    ("NLU pipeline", "_parse_message_with_graph", "rasa/core/processor.py"),
    ("  sentence embeddings (MiniLM, ONNX Runtime)", "process", "nlu/sentence_embeddings.py"),
    ("  TF-IDF features", "process", "nlu/tfidf.py"),
    ("  intent classifier", "process", "rasa/nlu/classifiers/logistic_regression_classifier.py"),
    ("  DIET classifier", "process", "rasa/nlu/classifiers/diet_classifier.py"),
    ("  urgency detector (red flags)", "process", "urgency/detector.py"),
    ("tracker store: load the conversation", "retrieve", "conversations/store.py"),
    ("tracker store: save the turn", "save", "rasa/core/tracker_store.py"),
    ("dialogue policies (two predictions)", "_predict_next_with_tracker", "rasa/core/processor.py"),
    ("custom action call (HTTP to the action server)", "run", "rasa/core/actions/action.py"),
    ("  checking the action server's response", "_validate_action_result", "rasa/core/actions/action.py"),
    ("Rasa's graph runner (dask), all graphs", "get_async", "dask/local.py"),
]


def frame_matches(frame: str, function: str, path_end: str) -> bool:
    name, _, location = frame.partition(" (")
    return name == function and location.rsplit(":", 1)[0].endswith(path_end)


def stage_samples(raw: str) -> Counter:
    counts: Counter = Counter()
    for line in raw.splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        frames = stack.split(";")
        for label, function, path_end in STAGES:
            if any(frame_matches(frame, function, path_end) for frame in frames):
                counts[label] += int(number)
    return counts


def profile(at_once: int, conversations: int, messages: int) -> Dict[str, object]:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not py_spy:
        raise SystemExit("py-spy is not installed in this environment: run `make install`.")
    OUT.mkdir(parents=True, exist_ok=True)
    raw_file = OUT / "profile.txt"
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as workdir:
        stack = start_stack(Path(workdir), MODEL, extra_env={REPLY_DEADLINE_ENV: str(DEFAULT_REPLY_DEADLINE)})
        try:
            level(stack.url, draw_conversations(2, 5, 1), 1)  # warm-up, not sampled
            sampler = subprocess.Popen(
                [py_spy, "record", "--pid", str(stack.servers["rasa"].process.pid), "--format", "raw"]
                + ["--rate", str(RATE), "--output", str(raw_file), "--nonblocking"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            result = level(stack.url, draw_conversations(conversations, messages, 0), at_once)
            sampler.send_signal(signal.SIGINT)
            _, errors = sampler.communicate(timeout=60)
        finally:
            stack.stop()
    if not raw_file.is_file():
        raise SystemExit(f"py-spy wrote no profile:\n{errors}")
    counts = stage_samples(raw_file.read_text())
    return {"load": result, "samples": counts, "raw": raw_file}


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--at-once", type=int, default=10)
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args(argv)
    found = profile(args.at_once, args.conversations, args.messages)
    counts, load = found["samples"], found["load"]
    turn = counts[STAGES[0][0]] or 1
    sent = load["messages"]
    speed = f"{load['messages_per_second']} messages/s, {load['errors']} errors"
    print(f"{sent} messages, {args.at_once} at a time: {speed}")
    print("| stage | share of a turn | ms per message |\n|---|---|---|")
    for label, _, _ in STAGES:
        if counts[label]:
            print(f"| {label} | {counts[label] / turn:.0%} | {counts[label] / RATE / sent * 1000:.1f} |")
    print(f"\nRaw stacks: {Path(found['raw']).relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
