"""Training from scratch, as `make train` does it, timed from the outside."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from harness.servers import server_env
from paths import ROOT


def rasa_train(arguments: List[str], out_dir: Path) -> float:
    """Seconds for `rasa train <arguments>` into `out_dir` (model name `model`), with an empty cache of its
    own so that nothing from an earlier training is reused."""
    command = [sys.executable, "-m", "rasa", "train", *arguments, "--out", str(out_dir), "--fixed-model-name", "model"]
    env = {**server_env(), "RASA_CACHE_DIRECTORY": str(out_dir / "cache")}
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}")
    return seconds


def train_from_scratch() -> Dict[str, float]:
    """`rasa train` (NLU and dialogue) and the size of the model it makes."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as workdir:
        seconds = rasa_train([], Path(workdir))
        size = (Path(workdir) / "model.tar.gz").stat().st_size
    return {"seconds": round(seconds, 1), "model_mib": round(size / 2**20, 2)}
