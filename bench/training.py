"""Full training from scratch, as `make train` does it, and the size of what it makes."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict

from tests.servers import ROOT, server_env


def train_from_scratch() -> Dict[str, float]:
    """`rasa train` (NLU and dialogue) into a temporary folder, with an empty cache of its own so
    nothing from an earlier training is reused."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as workdir:
        command = [sys.executable, "-m", "rasa", "train", "--out", workdir, "--fixed-model-name", "model"]
        env = {**server_env(), "RASA_CACHE_DIRECTORY": str(Path(workdir) / "cache")}
        started = time.perf_counter()
        finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if finished.returncode != 0:
            raise RuntimeError(f"rasa train failed:\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}")
        size = (Path(workdir) / "model.tar.gz").stat().st_size
    return {"seconds": round(seconds, 1), "model_mib": round(size / 2**20, 2)}
