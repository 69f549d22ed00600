"""The peer in `make bench`'s speed and length tables: a stock Rasa bot with this project's data and domain.

What `rasa init` would give a team starting from this project's training data, rules and domain:
Rasa's default pipeline and policies (the empty `pipeline:` and `policies:` that `rasa init`
writes, which Rasa fills in when it trains), Rasa's own REST channel, its default tracker store
(in memory) and its own check of the action server's responses. It uses this project's action
server, because the domain's actions are custom ones: both bots pay the same for their actions.
Trained once per benchmark run, with a cache of its own, and measured with the same client.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict

from bench.training import rasa_train
from bench.understanding import RASA_INIT_CONFIG
from harness.servers import Stack, start_stack
from paths import DOMAIN, NLU_DATA, RULES

NAME = "stock Rasa bot (rasa init, this project's data and domain)"
# Rasa's own REST channel, as `rasa init`'s credentials.yml has it.
CREDENTIALS = "rest:\n"


def train(workdir: Path) -> Dict[str, Any]:
    """The peer's model (NLU and dialogue) trained from scratch in `workdir`, and how long that took."""
    data = workdir / "data"
    shutil.copytree(NLU_DATA, data / "nlu")
    shutil.copy(RULES, data / "rules.yml")
    (workdir / "config.yml").write_text(RASA_INIT_CONFIG)
    (workdir / "credentials.yml").write_text(CREDENTIALS)
    arguments = ["--config", str(workdir / "config.yml"), "--domain", str(DOMAIN), "--data", str(data)]
    seconds = rasa_train(arguments, workdir / "model")
    return {"model": workdir / "model" / "model.tar.gz", "credentials": workdir / "credentials.yml", "seconds": seconds}


def start(workdir: Path, peer: Dict[str, Any], **kwargs: Any) -> Stack:
    return start_stack(workdir, peer["model"], credentials=peer["credentials"], own_store=False, **kwargs)
