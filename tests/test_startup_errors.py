"""What a user or operator sees when the assistant can't start, and the HTTP API's lock.

Each failure must say what happened and what to do, with no Python traceback, and
leave no server running. The scripts run for real (scripts/run.sh, scripts/find-python.sh),
each in its own process group so that a server left behind would be found.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest
import requests

from harness.servers import START_TIMEOUT, Stack, free_port, free_ports, server_env
from paths import CONTENT_DIR, ROOT
from scripts import check_model

pytestmark = pytest.mark.e2e

QUICK_EXIT = 60  # seconds: a check that fails before any server starts


@dataclass
class Outcome:
    returncode: int
    output: str  # stdout and stderr, interleaved as a terminal would show them


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def launch(script: str, env: Dict[str, str], log: Path) -> subprocess.Popen:
    """The script in a new session: its process group holds every server it starts."""
    with open(log, "w") as handle:
        return subprocess.Popen(
            ["bash", script], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )


def finish(process: subprocess.Popen, log: Path, timeout: float) -> Outcome:
    """Waits for the script to end, then checks it left nothing running (and kills what it left)."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        ps = ["ps", "-o", "pid,stat,etime,args", "-g", str(process.pid)]
        running = subprocess.run(ps, capture_output=True, text=True)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        # What it printed and what was still running, so a hang says where it was.
        printed = log.read_text(errors="replace")
        pytest.fail(f"{process.args} still running after {timeout}s:\n{printed}\n{running.stdout}")
    leftovers = process_group_alive(process.pid)
    if leftovers:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    outcome = Outcome(process.returncode, log.read_text(errors="replace"))
    assert not leftovers, f"{process.args} left processes running:\n{outcome.output}"
    return outcome


def run_sh(tmp_path: Path, timeout: float = QUICK_EXIT, **settings: str) -> Outcome:
    """Runs scripts/run.sh to its end; it must leave no server and no temporary file behind."""
    log = tmp_path / "run.log"
    workdir = tmp_path / "work"
    outcome = finish(launch("scripts/run.sh", run_sh_env(workdir, **settings), log), log, timeout)
    assert not list(workdir.glob("itb-*")), outcome.output
    return outcome


def run_sh_env(workdir: Path, **settings: str) -> Dict[str, str]:
    """scripts/run.sh's environment: free ports, so it never meets a `make run` on the default ones.

    Its conversations and temporary files go to `workdir`, not into the repo.
    """
    env = {key: value for key, value in server_env().items() if key not in ("RASA_API_TOKEN", "MODEL")}
    ports = dict(zip(("ACTIONS_PORT", "RASA_PORT", "DEMO_PORT"), free_ports(3), strict=True))
    workdir.mkdir(exist_ok=True)
    private = {"TMPDIR": str(workdir), "TRACKER_STORE_URL": f"sqlite:///{workdir / 'conversations.db'}"}
    return {**env, **{key: str(value) for key, value in ports.items()}, **private, **settings}


def assert_refused_before_starting(outcome: Outcome, *expected: str) -> None:
    assert outcome.returncode != 0, outcome.output
    for text in expected:
        assert text in outcome.output, outcome.output
    assert "Traceback" not in outcome.output
    # run.sh says this whenever it has started a server, and only then.
    assert "Stopping the servers" not in outcome.output


# -- Python 3.10 --------------------------------------------------------------------------------


def fake_python(path: Path, version: str) -> Path:
    """An interpreter that runs the code it is given as the real one would, but reports `version`."""
    info = tuple(int(part) for part in version.split("."))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'#!/bin/sh\n[ "$1" = -c ] || exit 2\nshift\n'
        f'exec "{sys.executable}" -c "import sys; sys.version_info = {info}; exec(sys.argv[1])" "$@"\n'
    )
    path.chmod(0o755)
    return path


@pytest.fixture
def no_python_310(tmp_path: Path) -> Dict[str, str]:
    """A machine whose only Python is a 3.11: on PATH as python3, nothing in pyenv or the system places."""
    bin_dir = tmp_path / "bin"
    fake_python(bin_dir / "python3", "3.11.9")
    os.symlink(shutil.which("cat"), bin_dir / "cat")  # the one tool the script itself uses
    (tmp_path / "pyenv" / "versions").mkdir(parents=True)
    return {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "PYENV_ROOT": str(tmp_path / "pyenv"),
        "FIND_PYTHON_SYSTEM_CANDIDATES": str(tmp_path / "usr" / "bin" / "python3.10"),
    }


def test_find_python_says_what_to_install_when_there_is_no_310(no_python_310: Dict[str, str]) -> None:
    result = subprocess.run(
        ["/bin/bash", "scripts/find-python.sh"], cwd=ROOT, env=no_python_310, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "No Python 3.10 found" in result.stderr
    assert "pyenv install 3.10" in result.stderr
    assert "make run PYTHON=/path/to/python3.10" in result.stderr


@pytest.mark.parametrize("where", ["pyenv", "system"])
def test_find_python_finds_a_310_where_it_looks(no_python_310: Dict[str, str], tmp_path: Path, where: str) -> None:
    if where == "pyenv":
        python = fake_python(tmp_path / "pyenv" / "versions" / "3.10.14" / "bin" / "python", "3.10.14")
    else:
        python = fake_python(Path(no_python_310["FIND_PYTHON_SYSTEM_CANDIDATES"]), "3.10.14")
    result = subprocess.run(
        ["/bin/bash", "scripts/find-python.sh"], cwd=ROOT, env=no_python_310, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout.strip()) == (0, str(python)), result.stderr


# -- Ports --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variable, server",
    [("RASA_PORT", "the Rasa server"), ("ACTIONS_PORT", "the action server"), ("DEMO_PORT", "the demo page")],
)
def test_a_port_in_use_is_named_with_the_variable_that_moves_it(tmp_path: Path, variable: str, server: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        outcome = run_sh(tmp_path, **{variable: str(port)})
    assert_refused_before_starting(
        outcome,
        f"Can't start {server}: port {port} is already in use",
        "another program holds it",
        f"make run {variable}=",
    )
    suggested = int(re.search(rf"make run {variable}=(\d+)", outcome.output).group(1))
    with socket.socket() as probe:  # the port it suggests is free, as a server binds it
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", suggested))


def test_ports_held_by_another_make_run_say_so(stack: Stack, tmp_path: Path) -> None:
    outcome = run_sh(tmp_path, RASA_PORT=str(stack.rasa_port), ACTIONS_PORT=str(stack.actions_port))
    assert_refused_before_starting(
        outcome,
        f"Can't start the Rasa server: port {stack.rasa_port} is already in use; a Rasa server answers there, "
        "probably another `make run`",
        f"Can't start the action server: port {stack.actions_port} is already in use; an action server answers there",
        "stop it (Ctrl-C in its terminal)",
    )


def test_two_servers_on_one_port_are_refused(tmp_path: Path) -> None:
    port = str(free_port())
    outcome = run_sh(tmp_path, RASA_PORT=port, DEMO_PORT=port)
    assert_refused_before_starting(outcome, f"RASA_PORT and DEMO_PORT are both {port}")


# -- The model ----------------------------------------------------------------------------------


def broken_models(real_model: Path, directory: Path) -> Dict[Path, str]:
    """Files that are no loadable model, with what the check must call them."""
    data = real_model.read_bytes()
    random_bytes = directory / "random.tar.gz"
    random_bytes.write_bytes(secrets.token_bytes(64 * 1024))
    truncated = directory / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 2])
    overwritten = directory / "overwritten.tar.gz"  # e.g. a bad sector or a copy that went wrong
    middle = len(data) // 2
    overwritten.write_bytes(data[:middle] + secrets.token_bytes(4096) + data[middle + 4096 :])
    not_rasa = directory / "not-rasa.tar.gz"
    subprocess.run(["tar", "-czf", str(not_rasa), "-C", str(ROOT), "domain.yml"], check=True)
    return {
        random_bytes: "is damaged (",
        truncated: "is damaged (",
        overwritten: "is damaged (",
        not_rasa: "is not a Rasa model (a tar archive without metadata.json)",
    }


def test_a_missing_model_says_to_train(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "itb-assistant.tar.gz"
    outcome = run_sh(tmp_path, MODEL=str(missing))
    assert_refused_before_starting(outcome, f"The model {missing} is missing.", "`make train` makes it")


def test_the_default_model_missing_says_make_train() -> None:
    problem = check_model.ModelProblem("missing")
    assert check_model.advice(check_model.DEFAULT_MODEL, problem) == (
        "The model models/itb-assistant.tar.gz is missing.\nRun `make train` (or `make run`, which trains it)."
    )


def test_a_damaged_model_is_refused_before_any_server_starts(model_path: Path, tmp_path: Path) -> None:
    for broken, called in broken_models(model_path, tmp_path).items():
        outcome = run_sh(tmp_path, MODEL=str(broken))
        assert_refused_before_starting(outcome, f"The model {broken} {called}", "`make train`")


def test_the_default_model_damaged_says_to_delete_it_first() -> None:
    problem = check_model.ModelProblem("damaged", "EOFError: Compressed file ended before the end-of-stream marker")
    advice = check_model.advice(check_model.DEFAULT_MODEL, problem)
    assert "Delete it (rm models/itb-assistant.tar.gz) and run `make train`" in advice


def test_the_trained_model_passes_the_check(model_path: Path) -> None:
    assert check_model.check_model(model_path) == model_path
    assert check_model.check_model(model_path.parent) == check_model.latest_model(model_path.parent)


# -- The HTTP API -------------------------------------------------------------------------------


def test_a_short_api_token_is_refused(tmp_path: Path) -> None:
    outcome = run_sh(tmp_path, RASA_API_TOKEN="too-short-a-secret")
    assert_refused_before_starting(
        outcome,
        "RASA_API_TOKEN is too short (18 characters; it needs at least 32)",
        'python3 -c "import secrets; print(secrets.token_urlsafe(32))"',
    )


def test_the_http_api_is_off_by_default(stack: Stack) -> None:
    assert requests.get(f"{stack.url}/", timeout=10).text.startswith("Hello from Rasa")
    for path in ("/status", "/conversations/parent-1/tracker", "/domain", "/version"):
        assert requests.get(f"{stack.url}{path}", timeout=10).status_code == 404, path
    assert requests.put(f"{stack.url}/model", json={"model_file": "/tmp/x.tar.gz"}, timeout=10).status_code == 404


def listening_address(port: int) -> str:
    """The address a TCP socket listens on, from /proc/net/tcp (IPv4)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            return socket.inet_ntoa(bytes.fromhex(address)[::-1])
    raise AssertionError(f"nothing listens on port {port}")


def group_processes(pgid: int) -> Dict[int, str]:
    """The processes in a process group, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
            found[int(entry.name)] = cmdline
    return found


def wait_for(condition: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while condition not in log.read_text(errors="replace"):
        assert process.poll() is None, f"exited with {process.returncode}:\n{log.read_text(errors='replace')}"
        assert time.monotonic() < deadline, f"no {condition!r} within {timeout}s:\n{log.read_text(errors='replace')}"
        time.sleep(0.5)


@pytest.fixture
def token_run(tmp_path: Path) -> Iterator[Tuple[subprocess.Popen, Dict[str, str], Path]]:
    # Starting with "-", as one URL-safe token in 64 does: it must not be read as an option.
    env = run_sh_env(tmp_path / "work", RASA_API_TOKEN="-" + secrets.token_urlsafe(32))
    log = tmp_path / "run.log"
    process = launch("scripts/run.sh", env, log)
    try:
        yield process, env, log
    finally:
        if process.poll() is None or process_group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_make_run_with_a_token_locks_the_api_and_stops_everything_when_the_action_server_dies(
    token_run: Tuple[subprocess.Popen, Dict[str, str], Path],
) -> None:
    process, env, log = token_run
    wait_for("The ITB parents' assistant is running.", process, log, START_TIMEOUT)
    rasa = f"http://127.0.0.1:{env['RASA_PORT']}"

    assert requests.get(f"{rasa}/status", timeout=10).status_code == 401
    assert requests.get(f"{rasa}/status", params={"token": "x" * 43}, timeout=10).status_code == 401
    assert requests.get(f"{rasa}/status", params={"token": env["RASA_API_TOKEN"]}, timeout=10).status_code == 200
    tracker = f"{rasa}/conversations/parent-1/tracker"
    assert requests.get(tracker, timeout=10).status_code == 401
    assert requests.get(tracker, params={"token": env["RASA_API_TOKEN"]}, timeout=10).status_code == 200

    # The answer comes from the action server on ACTIONS_PORT (not endpoints.yml's 5055).
    reply = requests.post(
        f"{rasa}/webhooks/rest/webhook",
        json={"sender": "parent-1", "message": "how often does the pump get refilled?"},
        timeout=60,
    ).json()
    assert reply[0]["custom"]["answer_id"] == "pump_refill"
    assert requests.get(f"http://127.0.0.1:{env['DEMO_PORT']}/", timeout=10).status_code == 200
    assert listening_address(int(env["ACTIONS_PORT"])) == "127.0.0.1"
    assert listening_address(int(env["RASA_PORT"])) == "0.0.0.0"

    actions = [pid for pid, cmdline in group_processes(process.pid).items() if " run actions " in f"{cmdline} "]
    assert len(actions) == 1, group_processes(process.pid)
    os.kill(actions[0], signal.SIGKILL)
    outcome = finish(process, log, 60)
    assert outcome.returncode != 0
    assert "The action server (killed by SIGKILL) stopped; see its messages above." in outcome.output
    assert "Stopped." in outcome.output
    assert "Traceback" not in outcome.output
    for variable in ("RASA_PORT", "DEMO_PORT"):  # nothing listens any more (TIME_WAIT connections may stay)
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", int(env[variable])))
            probe.listen()


def test_a_server_that_misses_its_start_up_time_stops_everything(tmp_path: Path) -> None:
    # A server that never comes up, whatever the machine's speed: the action server's content file is a
    # named pipe nobody writes to, so reading it blocks. (Relying on the server being slower than 1 s
    # failed once the machine was warm: it answered, and run.sh carried on starting the Rasa server.)
    content = Path(shutil.copytree(CONTENT_DIR, tmp_path / "content"))
    (content / "answers.yml").unlink()
    os.mkfifo(content / "answers.yml")
    outcome = run_sh(tmp_path, ACTIONS_START_TIMEOUT="1", ITB_CONTENT_DIR=str(content))
    assert outcome.returncode != 0
    assert re.search(r"The action server did not answer on http://localhost:\d+/health within 1 s", outcome.output)
    assert re.search(r"make run ACTIONS_START_TIMEOUT=\d+", outcome.output)
    assert "Stopped." in outcome.output
    assert "Traceback" not in outcome.output


def test_missing_embedding_weights_are_named_before_the_rasa_server_starts(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nlu import minilm

    assert check_model.main([str(model_path)]) == 0
    monkeypatch.setattr(minilm, "MODEL_HOME", tmp_path)  # an environment without the weights
    assert check_model.main([str(model_path)]) == 1
    message = capsys.readouterr().err
    assert "sentence-embedding model is not in" in message and "make install" in message
