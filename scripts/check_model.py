"""Checks that the trained model is there and is a Rasa model, before a server tries to load it.

`rasa run` and `rasa shell` only find out that a model is missing or damaged after a
long start-up, and then print a traceback (or, for `rasa run`, start without a model
and answer nothing). This reads the archive the way Rasa's LocalModelStorage will
(a gzipped tar holding `metadata.json` and `components/`) without importing TensorFlow,
so it takes about a second and can say what to do. Called by scripts/run.sh and
scripts/shell.sh; `python scripts/check_model.py [MODEL]` prints nothing and exits 0
when the model is fine and the sentence-embedding weights it needs are installed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tarfile
import zlib
from pathlib import Path
from typing import Any, Dict

from packaging import version
from rasa.constants import MINIMUM_COMPATIBLE_VERSION

from nlu import minilm
from paths import MODEL, ROOT

DEFAULT_MODEL = MODEL.relative_to(ROOT)
# As in rasa.engine.storage.local_model_storage (MODEL_ARCHIVE_METADATA_FILE, MODEL_ARCHIVE_COMPONENTS_DIR).
METADATA_FILE = "metadata.json"
COMPONENTS_DIR = "components"
# The keys rasa.engine.storage.storage.ModelMetadata.from_dict reads without a default.
METADATA_KEYS = (
    "trained_at",
    "rasa_open_source_version",
    "model_id",
    "domain",
    "train_schema",
    "predict_schema",
    "training_type",
    "project_fingerprint",
    "core_target",
    "nlu_target",
    "language",
)
# Errors that reading a truncated or overwritten gzipped tar raises.
READ_ERRORS = (OSError, EOFError, tarfile.TarError, zlib.error, ValueError, UnicodeDecodeError)


class ModelProblem(Exception):
    """The model can't be loaded; the message says why, in a user's terms."""

    def __init__(self, state: str, reason: str = "", archive: Path | None = None) -> None:
        super().__init__(reason)
        self.state = state  # a key of STATES
        self.reason = reason
        self.archive = archive  # the file in a directory given as the model, if it got that far


STATES = {
    "missing": "is missing",
    "unreadable": "can't be read",
    "damaged": "is damaged",
    "not_a_model": "is not a Rasa model",
    "outdated": "is out of date",
}


def latest_model(directory: Path) -> Path:
    """The model `rasa run --model <directory>` would load: the newest *.tar.gz (rasa.model.get_latest_model)."""
    archives = sorted(directory.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if not archives:
        raise ModelProblem("missing", f"there is no *.tar.gz model in the directory {directory}")
    return archives[-1]


def read_metadata(archive: Path) -> Dict[str, Any]:
    """Reads the whole archive (so a truncated or overwritten one fails here) and returns its metadata."""
    names = set()
    serialized = None
    try:
        with gzip.open(archive) as stream:
            with tarfile.open(fileobj=stream, mode="r|") as tar:  # one pass, as the archive is 50 MB
                for member in tar:
                    name = member.name.lstrip("/").removeprefix("./")
                    names.add(name.split("/")[0])
                    if name == METADATA_FILE and member.isfile():
                        serialized = tar.extractfile(member).read()
            while stream.read(1 << 20):  # on to the gzip trailer, whose CRC catches damage tar headers can't
                pass
        if "fingerprint.json" in names:
            raise ModelProblem("outdated", "it is a Rasa 2 model, which Rasa 3 can't load")
        if serialized is None:
            raise ModelProblem("not_a_model", f"a tar archive without {METADATA_FILE}")
        if COMPONENTS_DIR not in names:
            raise ModelProblem("not_a_model", f"a tar archive without {COMPONENTS_DIR}/")
        metadata = json.loads(serialized.decode("utf-8"))
    except PermissionError as error:
        raise ModelProblem("unreadable", error.strerror or str(error)) from None
    except READ_ERRORS as error:
        raise ModelProblem("damaged", str(error) or type(error).__name__) from None
    if not isinstance(metadata, dict):
        raise ModelProblem("damaged", f"its {METADATA_FILE} is not a JSON object")
    missing = [key for key in METADATA_KEYS if key not in metadata]
    if missing:
        raise ModelProblem("damaged", f"its {METADATA_FILE} lacks {', '.join(missing)}")
    return metadata


def check_model(path: Path) -> Path:
    """The archive `rasa run --model path` would load, after checking it can; raises ModelProblem otherwise."""
    if path.is_dir():
        archive = latest_model(path)
        try:
            return check_archive(archive)
        except ModelProblem as problem:
            problem.archive = archive
            raise
    if not path.exists():
        raise ModelProblem("missing")
    if not path.name.endswith(".tar.gz"):  # rasa.model.get_local_model refuses any other name
        raise ModelProblem("not_a_model", "Rasa only loads model files whose name ends in .tar.gz")
    return check_archive(path)


def check_archive(path: Path) -> Path:
    metadata = read_metadata(path)
    trained_with = str(metadata["rasa_open_source_version"])
    try:
        too_old = version.parse(trained_with) < version.parse(MINIMUM_COMPATIBLE_VERSION)
    except version.InvalidVersion:
        raise ModelProblem("damaged", f"its Rasa version {trained_with!r} is not a version number") from None
    if too_old:
        raise ModelProblem(
            "outdated",
            f"it was trained with Rasa {trained_with}; this Rasa loads models from {MINIMUM_COMPATIBLE_VERSION} on",
        )
    return path


def advice(path: Path, problem: ModelProblem) -> str:
    """What happened and what to do, in the words of the Makefile's targets."""
    is_default = path.resolve() == (ROOT / DEFAULT_MODEL).resolve()
    named = f"{problem.archive} (the newest in {path})" if problem.archive else str(path)
    lines = [f"The model {named} {STATES[problem.state]}" + (f" ({problem.reason})." if problem.reason else ".")]
    if not is_default:
        lines.append(
            f"Point MODEL at a model `rasa train` made, or leave MODEL unset to use {DEFAULT_MODEL} "
            "(`make train` makes it)."
        )
    elif problem.state == "missing":
        lines.append("Run `make train` (or `make run`, which trains it).")
    elif problem.state == "unreadable":
        lines.append("Check its permissions, or delete it and run `make train` (or `make run`, which trains it).")
    else:  # make would think the file is up to date, so it has to go first
        lines.append(f"Delete it (rm {path}) and run `make train` (or `make run`, which trains it).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, default=DEFAULT_MODEL, help=f"default: {DEFAULT_MODEL}")
    args = parser.parse_args(argv)
    try:
        check_model(args.model)
    except ModelProblem as problem:
        print(advice(args.model, problem), file=sys.stderr)
        return 1
    # The pipeline's sentence embeddings load their weights from the environment, not the archive:
    # without them the Rasa server would stop half-way through start-up with a traceback.
    try:
        minilm.installed_model(minilm.MODEL_HOME)
    except minilm.ModelNotInstalledError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
