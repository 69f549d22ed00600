"""`make bench`: does it understand parents, and how fast? Same machine, same run, side by side.

    .venv/bin/python -m bench [--repeats 3] [--sections understanding,speed,training] [--systems NAME,...]

Writes results/bench/bench.md (the tables, printed too), bench.json (every repeat's raw figures)
and the shipped pipeline's confusion_matrix.png and per_intent_f1.png. Timings are the median
over the repeats; each repeat trains every system and starts the servers afresh. A section run
alone keeps the other sections' figures from earlier runs, and every table names the command
that made it. It is a report, not a test: it exits non-zero only when a message went unanswered
or something failed to run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Dict, List

from bench import length, peer, speed, training, understanding
from harness.servers import start_stack
from paths import MODEL, REALISTIC, RESULTS, ROOT

OUT = RESULTS / "bench"
SECTIONS = ("understanding", "speed", "length", "training")


def parse_args(argv: List[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of everything; timings are their median")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    parser.add_argument("--systems", default="", help="understanding: only systems whose name contains one of these")
    parser.add_argument("--conversations", type=int, default=50, help="speed: conversations in each workload")
    parser.add_argument("--messages", type=int, default=10, help="speed: messages in each conversation")
    parser.add_argument("--levels", default="1,10,50", help="speed: conversations at once, comma-separated")
    parser.add_argument("--seed", type=int, default=0, help="speed: seed for drawing the test-set messages")
    parser.add_argument("--workers", type=int, default=1, help="speed: Sanic workers (more than 1 needs --redis)")
    parser.add_argument(
        "--redis", default="redis://127.0.0.1:6379/3", help="speed: Redis for the lock store when --workers > 1"
    )
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="speed, length: leave out the stock bot")
    parser.add_argument("--length-messages", type=int, default=500, help="length: messages in the conversation")
    parser.add_argument("--length-window", type=int, default=50, help="length: messages per window")
    args = parser.parse_args(argv)
    args.sections = [part for part in args.sections.split(",") if part]
    if unknown := set(args.sections) - set(SECTIONS):
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    args.levels = [int(part) for part in args.levels.split(",")]
    args.state = {}  # what sections share within a run: the peer's trained model
    if min(args.repeats, args.conversations, args.messages, args.workers, *args.levels) < 1:
        parser.error("--repeats, --conversations, --messages, --levels and --workers must be at least 1")
    return args


def median_of(runs: List[Any]) -> Any:
    """The median of each number across repeats, keeping the shape (lists of texts: the first run's)."""
    first = runs[0]
    if isinstance(first, dict):
        return {key: median_of([run[key] for run in runs]) for key in first}
    if isinstance(first, bool) or not isinstance(first, (int, float)):
        return first
    return round(statistics.median(runs), 4)


def run_understanding(args: argparse.Namespace) -> Dict[str, Any]:
    only = [part for part in args.systems.split(",") if part]
    data = understanding.evaluation_data()
    repeats = []
    for repeat in range(args.repeats):
        print(f"Understanding, repeat {repeat + 1}/{args.repeats}", file=sys.stderr, flush=True)
        predictions = understanding.measure(only)
        repeats.append([understanding.score(prediction, data) for prediction in predictions])
    plots = []
    for index, prediction in enumerate(predictions):  # the last repeat's, which scored as repeats[-1]
        if prediction.system == understanding.SHIPPED:
            OUT.mkdir(parents=True, exist_ok=True)
            plots = understanding.draw_plots(repeats[-1][index], prediction, data, OUT)
    systems = [median_of([asdict(scores[index]) for scores in repeats]) for index in range(len(repeats[0]))]
    return {
        "test_messages": len(data.test.texts),
        "intents": len(set(data.test.intents)),
        "training_messages": len(data.training.texts),
        "urgent_messages": len(data.urgent),
        "calm_messages": len(data.calm),
        "realistic_messages": len(data.realistic),
        "realistic_file": str(REALISTIC.relative_to(ROOT)),
        "systems": systems,
        "plots": [str(path.relative_to(ROOT)) for path in plots],
        "repeats": [[asdict(scores) for scores in run] for run in repeats],
    }


def the_peer(args: argparse.Namespace) -> Dict[str, Any]:
    """The stock Rasa bot (bench/peer.py), trained once per run and kept for the sections that need it."""
    if "peer" not in args.state:
        workdir = Path(tempfile.mkdtemp(prefix="bench-peer-"))
        print("Training the peer (a stock Rasa bot on this project's data) ...", file=sys.stderr, flush=True)
        args.state["peer"] = {**peer.train(workdir), "workdir": workdir}
    return args.state["peer"]


def run_speed(args: argparse.Namespace) -> Dict[str, Any]:
    repeats, peer_repeats = [], []
    for repeat in range(args.repeats):
        print(f"Speed, repeat {repeat + 1}/{args.repeats}: starting the servers", file=sys.stderr, flush=True)
        repeats.append(
            speed.one_repeat(
                MODEL, args.levels, args.conversations, args.messages, args.seed, args.workers, args.redis
            )
        )
        if args.peer:
            stock = the_peer(args)
            print(f"Speed, repeat {repeat + 1}/{args.repeats}: the peer", file=sys.stderr, flush=True)
            start = partial(peer.start, peer=stock)
            peer_repeats.append(
                speed.one_repeat(stock["model"], args.levels, args.conversations, args.messages, args.seed, start=start)
            )
    result = {
        "model": str(MODEL.relative_to(ROOT)),
        "model_mib": round(MODEL.stat().st_size / 2**20, 2),
        "messages_per_level": args.conversations * args.messages,
        "messages_each": args.messages,
        "workers": args.workers,
        **median_of(repeats),
        "repeats": repeats,
    }
    if peer_repeats:
        stock = the_peer(args)
        result["peer"] = {
            "system": peer.NAME,
            "model_mib": round(stock["model"].stat().st_size / 2**20, 2),
            **median_of(peer_repeats),
            "repeats": peer_repeats,
        }
    return result


def run_length(args: argparse.Namespace) -> Dict[str, Any]:
    """One long conversation on each bot, per-window p50s, and the plot of both."""
    curves = {}
    bots = [(understanding.SHIPPED, lambda workdir: start_stack(workdir, MODEL))]
    if args.peer:
        stock = the_peer(args)
        bots.append((peer.NAME, lambda workdir: peer.start(workdir, stock)))
    for name, start in bots:
        print(f"Length: {args.length_messages} messages in one conversation, {name}", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-length-") as workdir:
            stack = start(Path(workdir))
            try:
                curves[name] = length.measure(stack, args.length_messages, args.length_window, args.seed)
            finally:
                stack.stop()
    OUT.mkdir(parents=True, exist_ok=True)
    plot = OUT / "conversation_length.png"
    length.draw(curves, plot)
    return {"curves": curves, "plot": str(plot.relative_to(ROOT))}


def run_training(args: argparse.Namespace) -> Dict[str, Any]:
    repeats = []
    for repeat in range(args.repeats):
        print(f"Training from scratch, repeat {repeat + 1}/{args.repeats}", file=sys.stderr, flush=True)
        repeats.append(training.train_from_scratch())
    return {**median_of(repeats), "repeats": repeats}


def command(args: argparse.Namespace) -> str:
    words = [".venv/bin/python", "-m", "bench", "--repeats", str(args.repeats)]
    if list(args.sections) != list(SECTIONS):
        words += ["--sections", ",".join(args.sections)]
    if args.systems:
        words += ["--systems", args.systems]
    if "speed" in args.sections:
        words += ["--conversations", str(args.conversations), "--messages", str(args.messages)]
        words += ["--levels", ",".join(map(str, args.levels)), "--seed", str(args.seed)]
        if args.workers > 1:
            words += ["--workers", str(args.workers), "--redis", args.redis]
    if "length" in args.sections:
        words += ["--length-messages", str(args.length_messages), "--length-window", str(args.length_window)]
    if not args.peer:
        words += ["--no-peer"]
    return shlex.join(words)


def markdown(result: Dict[str, Any]) -> str:
    lines: List[str] = []
    if "understanding" in result:
        lines += understanding_table(result["understanding"])
    if "speed" in result:
        lines += speed_table(result["speed"])
    if "length" in result:
        lines += length_table(result["length"])
    if "speed" in result or "training" in result:
        lines += footprint_table(result.get("speed"), result.get("training"))
    return "\n".join(lines) + "\n"


def code_version() -> str:
    """The commit measured, so that a figure copied into the docs can name it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "no git"
    if head.returncode != 0:
        return "not a git checkout"
    dirty = " with uncommitted changes" if changes.stdout.strip() else ""
    return f"commit {head.stdout.strip()}{dirty}"


def provenance(section: Dict[str, Any]) -> str:
    run = section["run"]
    at = f"{run['commit']}; " if "commit" in run else ""
    repeated = "repeats" in section and run["repeats"] > 1  # the length section runs once
    runs = f"median of {run['repeats']} runs" if repeated else "one run"
    return f"`{run['command']}` ({at}{run['date']} UTC; {run['machine']}; {runs})"


def write(result: Dict[str, Any]) -> str:
    """bench.md and bench.json as they stand, so that a section that fails keeps the ones before it."""
    OUT.mkdir(parents=True, exist_ok=True)
    table = markdown(result)
    (OUT / "bench.md").write_text(table)
    (OUT / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    return table


def understanding_table(section: Dict[str, Any]) -> List[str]:
    systems = section["systems"]
    shipped = next((system for system in systems if system["system"] == understanding.SHIPPED), None)
    lines = [
        "### Understanding",
        "",
        f"Held-out test set: {section['test_messages']} messages, {section['intents']} intents; trained on "
        f"{section['training_messages']} examples. Urgency: {section['urgent_messages']} urgent and "
        f"{section['calm_messages']} calm messages (the test set plus tests/urgency/blind_messages_2.yml). "
        f"Each system trained from scratch in each run. Command: {provenance(section)}.",
        "",
        "| system | intent accuracy | macro-F1 | urgent recall | calm flagged urgent | training (s) |"
        + (" training vs shipped |" if shipped else ""),
        "|---|---|---|---|---|---|" + ("---|" if shipped else ""),
    ]
    for system in systems:
        row = (
            f"| {system['system']} | {system['accuracy']:.3f} | {system['macro_f1']:.3f} | "
            f"{system['urgent_recall']:.3f} ({system['urgent_caught']:.0f}/{system['urgent_total']}) | "
            f"{system['false_alarm_rate']:.3f} ({system['false_alarms']:.0f}/{system['calm_total']}) | "
            f"{system['train_seconds']:.1f} |"
        )
        if shipped:
            row += f" {system['train_seconds'] / shipped['train_seconds']:.2f}× |"
        lines.append(row)
    if shipped and shipped.get("asked_instead") is not None:
        lines += [
            "",
            f"The shipped pipeline's intent is its classifier's first choice; for {shipped['asked_instead']:.0f} "
            "test messages the bot asks \"Did you mean ...?\" rather than answer it.",
        ]
    if section["plots"]:
        lines += ["", "Plots: " + ", ".join(f"`{plot}`" for plot in section["plots"]) + "."]
    return lines + [""] + realistic_table(section)


def percent(part: float, whole: float) -> str:
    return f"{part / whole:.1%} ({part:.0f}/{whole:.0f})" if whole else "–"


def realistic_table(section: Dict[str, Any]) -> List[str]:
    """The same systems on messages as parents really write them, in all and style by style."""
    systems = [system for system in section["systems"] if system.get("realistic")]
    if not systems:
        return []
    lines = [
        "### Understanding parents as they really write",
        "",
        f"`{section['realistic_file']}`: {section['realistic_messages']} messages written blind in the ways parents "
        "type on a phone (long stories, English as a second language, names spelt by ear, carers, signs that are "
        "over, two questions, bare cries for help), read as the channels pass them on. A fact question is right "
        "when it gets its answer (or, for two questions, either one); a false alarm is an urgent or 000 reply to "
        f"a message that needed neither. Same runs as above. Command: {provenance(section)}.",
        "",
        "| system | fact questions answered right | \"Did you mean ...?\" | needless urgent reply | wrong answer | "
        "advice, not covered, conversation handled | urgent recall | 000 for life-threatening | false alarms | "
        "bare cries for help |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for system in systems:
        r = system["realistic"]
        lines.append(
            f"| {system['system']} | {percent(r['facts_right'], r['facts'])} | "
            f"{percent(r['facts_clarified'], r['facts'])} | {percent(r['facts_urgent'], r['facts'])} | "
            f"{percent(r['facts_wrong'], r['facts'])} | "
            f"{percent(r['other_handled']['right'], r['other_handled']['total'])} | "
            f"{percent(r['urgent_caught']['right'], r['urgent_caught']['total'])} | "
            f"{percent(r['emergency_caught']['right'], r['emergency_caught']['total'])} | "
            f"{percent(r['false_alarms']['right'], r['false_alarms']['total'])} | "
            f"{percent(r['bare_cries']['right'], r['bare_cries']['total'])} |"
        )
    styles = sorted({style for system in systems for style in system["realistic"]["by_style"]})
    lines += [
        "",
        "Style by style: fact questions answered right, and false alarms (urgent recall per style is in bench.json).",
        "",
        "| style | " + " | ".join(system["system"] for system in systems) + " |",
        "|---|" + "---|" * len(systems),
    ]
    for style in styles:
        cells = []
        for system in systems:
            tallies = system["realistic"]["by_style"].get(style, {})
            facts, alarms = tallies.get("facts right"), tallies.get("false alarms")
            facts_cell = percent(facts["right"], facts["total"]) if facts else "–"
            alarm_cell = f"{alarms['right']:.0f}/{alarms['total']:.0f}" if alarms else "–"
            cells.append(f"{facts_cell}; alarms {alarm_cell}")
        lines.append(f"| {style} | " + " | ".join(cells) + " |")
    return lines + [""]


def speed_table(section: Dict[str, Any]) -> List[str]:
    levels = section["levels"]
    header = " | ".join(f"{level} at a time" for level in levels)
    lines = [
        "### Speed",
        "",
        f"REST round trip, client to reply, action server included: {section['messages_per_level']} test-set "
        f"messages at each level (conversations of {section['messages_each']}); {section['workers']} Sanic "
        f"worker(s); each run on freshly started servers. Command: {provenance(section)}.",
        "",
        f"| | {header} |",
        "|---|" + "---|" * len(levels),
        "| p50 / p95 / p99 (ms) | "
        + " | ".join(
            f"{v['latency_ms']['p50']:.0f} / {v['latency_ms']['p95']:.0f} / {v['latency_ms']['p99']:.0f}"
            for v in levels.values()
        )
        + " |",
        "| messages per second | " + " | ".join(f"{v['messages_per_second']:.1f}" for v in levels.values()) + " |",
        "| errors | " + " | ".join(f"{v['errors']:.0f}" for v in levels.values()) + " |",
    ]
    parse = section["parse_ms"]
    single = levels.get("1")
    lines += [
        "",
        f"NLU alone (`POST /model/parse`, same messages, one at a time): p50 / p95 / p99 {parse['p50']:.1f} / "
        f"{parse['p95']:.1f} / {parse['p99']:.1f} ms"
        + (f", {parse['p50'] / single['latency_ms']['p50']:.0%} of the round trip's p50." if single else "."),
        "",
    ]
    return lines + peer_speed_table(section)


def ratio(ours: float, theirs: float) -> str:
    """How many times faster (or less) this bot is: the peer's figure over ours."""
    return f"{theirs / ours:.1f}×" if ours else "–"


def peer_speed_table(section: Dict[str, Any]) -> List[str]:
    """This bot beside the stock Rasa bot, same run, same client: absolute figures and ratios."""
    stock = section.get("peer")
    if not stock:
        return []
    lines = [
        f"Beside a peer, {stock['system']} (bench/peer.py), on the same machine in the same run with the same client "
        "and messages. The ratio is the peer's figure over this bot's (higher is better for this bot; for "
        "messages per second, this bot's over the peer's).",
        "",
        "| | this bot | the peer | ratio |",
        "|---|---|---|---|",
    ]
    for level, ours in section["levels"].items():
        theirs = stock["levels"][level]
        for p in ("p50", "p99"):
            lines.append(
                f"| {level} at a time, {p} (ms) | {ours['latency_ms'][p]:.0f} | {theirs['latency_ms'][p]:.0f} | "
                f"{ratio(ours['latency_ms'][p], theirs['latency_ms'][p])} |"
            )
        ours_rate, theirs_rate = ours["messages_per_second"], theirs["messages_per_second"]
        lines.append(
            f"| {level} at a time, messages per second | {ours_rate:.1f} | {theirs_rate:.1f} | "
            f"{ratio(theirs_rate, ours_rate)} |"
        )
        lines.append(f"| {level} at a time, errors | {ours['errors']:.0f} | {theirs['errors']:.0f} | |")
    lines += [
        f"| NLU alone p50 (ms) | {section['parse_ms']['p50']:.1f} | {stock['parse_ms']['p50']:.1f} | "
        f"{ratio(section['parse_ms']['p50'], stock['parse_ms']['p50'])} |",
        f"| Rasa server peak RSS (MiB) | {section['peak_rss_mib']['rasa']:.0f} | {stock['peak_rss_mib']['rasa']:.0f} | "
        f"{ratio(section['peak_rss_mib']['rasa'], stock['peak_rss_mib']['rasa'])} |",
        f"| cold start (s) | {section['cold_start_seconds']:.1f} | {stock['cold_start_seconds']:.1f} | "
        f"{ratio(section['cold_start_seconds'], stock['cold_start_seconds'])} |",
        f"| model archive (MiB) | {section['model_mib']:.1f} | {stock['model_mib']:.1f} | |",
        "",
    ]
    return lines


def length_table(section: Dict[str, Any]) -> List[str]:
    curves = section["curves"]
    first = next(iter(curves.values()))
    window, count = first["window"], len(first["window_p50_ms"])
    header = " | ".join(f"{window * i + 1}–{window * (i + 1)}" for i in range(count))
    lines = [
        "### Conversation length",
        "",
        f"One conversation of {first['messages']} held-out questions, one at a time over REST, on freshly started "
        f"servers: p50 round trip (ms) per window of {window} messages, and a fresh conversation's p50 (each "
        f"message from a new sender). Plot: `{section['plot']}`. Command: {provenance(section)}.",
        "",
        f"| | {header} | fresh | last window / first |",
        "|---|" + "---|" * (count + 2),
    ]
    for name, curve in curves.items():
        cells = " | ".join(f"{value:.0f}" for value in curve["window_p50_ms"])
        lines.append(f"| {name} | {cells} | {curve['fresh_p50_ms']:.0f} | {curve['last_over_first']:.2f}× |")
    return lines + [""]


def footprint_table(speed_section: Dict[str, Any] | None, training_section: Dict[str, Any] | None) -> List[str]:
    lines = ["### Footprint", "", "| | |", "|---|---|"]
    commands = []
    if speed_section:
        rss = speed_section["peak_rss_mib"]
        lines += [
            f"| Rasa server peak RSS (after all the speed runs) | {rss['rasa']:.0f} MiB |",
            f"| action server peak RSS | {rss['actions']:.0f} MiB |",
            f"| cold start (processes started to first answer) | {speed_section['cold_start_seconds']:.1f} s |",
            f"| model archive ({speed_section['model']}) | {speed_section['model_mib']:.1f} MiB |",
        ]
        commands.append(f"memory, cold start and archive: {provenance(speed_section)}")
    if training_section:
        lines.append(f"| training from scratch (`rasa train`, empty cache) | {training_section['seconds']:.0f} s |")
        commands.append(f"training: {provenance(training_section)}")
    return lines + ["", "Commands: " + "; ".join(commands) + ".", ""]


def earlier_results() -> Dict[str, Any]:
    """The sections of earlier runs, so that running one section keeps the others' figures."""
    try:
        earlier = json.loads((OUT / "bench.json").read_text())
    except (OSError, ValueError):
        return {}
    return {name: section for name, section in earlier.items() if name in SECTIONS and "run" in section}


def main(argv: List[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    run = {
        "command": command(args),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{len(os.sched_getaffinity(0))} cores, {platform.machine()}, Python {platform.python_version()}",
        "repeats": args.repeats,
        "commit": code_version(),
    }
    runners = {"understanding": run_understanding, "speed": run_speed, "length": run_length, "training": run_training}
    result = earlier_results()
    table = ""
    for section in args.sections:
        result[section] = {**runners[section](args), "run": run}
        table = write(result)
    print(table)
    print(f"Written to {(OUT / 'bench.md').relative_to(ROOT)} and bench.json.", file=sys.stderr)
    errors = sum(level["errors"] for level in result.get("speed", {}).get("levels", {}).values())
    if "speed" in args.sections and errors:
        print(f"FAILED: {errors} messages got no answer.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
