"""Compare the shipped pipeline with two alternatives on the held-out set.

Why plain intents and no TEDPolicy (see config.yml) is a measured choice, and
this re-measures it. It copies the project under results/compare/ three times
and trains each copy from scratch:
  - shipped: as it is;
  - response_selector: the fact-sheet intents become retrieval intents (faq/<id>)
    answered by a ResponseSelector;
  - ted: the shipped config plus TEDPolicy.
Each model is scored by what a parent gets for each held-out message: the right
answer, a "Did you mean ...?" (and whether it offers the right answer), or a
wrong answer. The two with plain intents also run the conversation tests.

Run after `make install`:  .venv/bin/python scripts/compare_pipelines.py
It trains three models from scratch: about 13 minutes on 2 cores.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Tuple

import yaml

from actions.actions import clarify_candidates
from content_library.content import load_content, read_yaml
from harness.model import load_parser, quiet_logs
from harness.servers import server_env
from nlu.examples import nlu_examples
from paths import HELD_OUT_NLU, RESULTS, ROOT

OUT = RESULTS / "compare"


def copy_project(name: str) -> Path:
    target = OUT / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for part in ("config.yml", "domain.yml", "credentials.yml", "endpoints.yml", "data", "tests", "content"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target / part)
    return target


def retrieval_intent_variant() -> Path:
    project = copy_project("response_selector")
    content = load_content()
    answers = set(content.answers)
    for path in [*project.glob("data/nlu/*.yml"), project / "tests" / "nlu" / "test_nlu.yml"]:
        text = path.read_text()
        for answer in answers:
            text = re.sub(rf"^- intent: {answer}$", f"- intent: faq/{answer}", text, flags=re.M)
        path.write_text(text)
    domain = read_yaml(project / "domain.yml")
    domain["intents"] = [intent for intent in domain["intents"] if intent not in answers] + ["faq"]
    for answer in answers:
        domain["responses"][f"utter_faq/{answer}"] = [{"text": content.answers[answer].text}]
    (project / "domain.yml").write_text(yaml.safe_dump(domain, sort_keys=False, allow_unicode=True))
    rules = read_yaml(project / "data" / "rules.yml")
    for rule in rules["rules"]:
        for step in rule["steps"]:
            if "or" in step:
                step["or"] = [option for option in step["or"] if option["intent"] not in answers]
    rules["rules"].append({"rule": "faq", "steps": [{"intent": "faq"}, {"action": "utter_faq"}]})
    (project / "data" / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    fallback = "  - name: FallbackClassifier"
    selector = "  - name: ResponseSelector\n    epochs: 100\n    retrieval_intent: faq\n    random_seed: 2026\n"
    config = (project / "config.yml").read_text()
    (project / "config.yml").write_text(config.replace(fallback, selector + fallback))
    return project


def ted_variant() -> Path:
    project = copy_project("ted")
    with open(project / "config.yml", "a") as config:
        config.write("  - name: TEDPolicy\n    max_history: 5\n    epochs: 100\n")
    return project


def rasa(project: Path, *args: str) -> Tuple[int, float]:
    env = {**server_env(), "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    with open(project / f"{args[0]}.log", "w") as log:
        code = subprocess.run([sys.executable, "-m", "rasa", *args], cwd=project, env=env, stdout=log, stderr=log)
    return code.returncode, time.monotonic() - start


def answer_of(parsed: Dict[str, Any], intent: str) -> str:
    if intent == "faq":
        return parsed["response_selector"]["faq"]["response"]["intent_response_key"].split("/")[-1]
    return intent


def score(model: Path) -> Dict[str, int]:
    parse = load_parser(model)
    answer_ids = load_content().answers
    counts = {"messages": 0, "right": 0, "clarify": 0, "clarify_offers_right": 0, "wrong": 0}
    for gold_intent, texts in nlu_examples(HELD_OUT_NLU).items():
        gold = gold_intent.split("/")[-1]
        for text in texts:
            counts["messages"] += 1
            parsed = parse(text)
            intent = parsed["intent"]["name"]
            if intent == "nlu_fallback":
                counts["clarify"] += 1
                # What action_clarify would offer, with faq resolved to the selected answer.
                ranking = [{**item, "name": answer_of(parsed, item["name"])} for item in parsed["intent_ranking"]]
                counts["clarify_offers_right"] += gold in clarify_candidates(ranking, answer_ids)
            elif answer_of(parsed, intent) == gold:
                counts["right"] += 1
            else:
                counts["wrong"] += 1
    return counts


def main() -> None:
    quiet_logs()
    rows = []
    for name, build in (
        ("shipped: plain intents, RulePolicy", lambda: copy_project("shipped")),
        ("retrieval intents + ResponseSelector", retrieval_intent_variant),
        ("shipped + TEDPolicy", ted_variant),
    ):
        project = build()
        code, seconds = rasa(project, "train", "--fixed-model-name", "model")
        if code:
            sys.exit(f"{name}: training failed, see {project / 'train.log'}")
        stories = ""
        if not name.startswith("retrieval"):  # its stories would need faq/ intents
            code, _ = rasa(
                project,
                "test",
                "core",
                "--stories",
                "tests/test_stories.yml",
                "--model",
                "models/model.tar.gz",
                "--out",
                "results",
                "--fail-on-prediction-errors",
            )
            stories = "all pass" if code == 0 else "failures"
        rows.append((name, score(project / "models" / "model.tar.gz"), f"{seconds:.0f} s", stories))

    print("| pipeline | right answer | Did you mean...? (offers right) | wrong answer | training | test stories |")
    print("|---|---|---|---|---|---|")
    for name, c, seconds, stories in rows:
        print(
            f"| {name} | {c['right']}/{c['messages']} | {c['clarify']} ({c['clarify_offers_right']}) "
            f"| {c['wrong']} | {seconds} | {stories or '-'} |"
        )


if __name__ == "__main__":
    main()
