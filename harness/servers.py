"""Starting the real Rasa and action servers for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import requests
import yaml

from connectors.guard import REPLY_DEADLINE_ENV
from paths import CREDENTIALS, ENDPOINTS, MODEL, ROOT

START_TIMEOUT = 240  # seconds; loading TensorFlow and the model on 2 cores
TRACKER_STORE_URL = "TRACKER_STORE_URL"  # conversations/store.py reads it


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> List[int]:
    """`count` different free ports: each stays bound while the next is chosen, so none comes up twice."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def http_api_args(token: str) -> List[str]:
    """Rasa's HTTP API behind `token`, given as `--auth-token=TOKEN`.

    A URL-safe token starts with "-" one time in 64, and argparse then reads `--auth-token TOKEN`
    as a flag with no value: the server exits with a usage message instead of starting.
    """
    return ["--enable-api", f"--auth-token={token}"]


def server_env() -> Dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def start(name: str, args: List[str], log_dir: Path, extra_env: Dict[str, str] | None = None) -> Server:
    log = log_dir / f"{name}.log"
    with open(log, "w") as handle:  # the child keeps its own copy of the file descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env={**server_env(), **(extra_env or {})},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    return Server(name, process, log)


def wait_until_up(server: Server, url: str) -> None:
    """Poll `url` until it answers 200; fail with the server's log if it dies or never answers."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{server.name} did not answer {url} within {START_TIMEOUT}s:\n{server.log_tail()}")


@dataclass
class Stack:
    """A running action server and Rasa server, as `make run` starts them."""

    rasa_port: int
    actions_port: int
    conversations_db: Path | None = None  # the SQLite file the Rasa server keeps conversations in
    servers: Dict[str, Server] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def send(self, message: Any, sender: str = "parent") -> List[Dict[str, Any]]:
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def stop_action_server(self) -> None:
        self.servers["actions"].stop()

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def stack_endpoints(stack: Stack) -> Dict[str, Any]:
    """endpoints.yml for a stack: its action server, and the project's tracker store on the stack's own file.

    The SQLite file is in the stack's workdir, not var/ in the repo, so stacks share
    no conversations and leave none behind. The Rasa server's TRACKER_STORE_URL is
    cleared unless `extra_env` gives one, so no test writes to a database named in
    the developer's shell.
    """
    with open(ENDPOINTS, encoding="utf-8") as handle:
        tracker_store = yaml.safe_load(handle)["tracker_store"]
    return {
        "action_endpoint": {"url": f"http://127.0.0.1:{stack.actions_port}/webhook"},
        "tracker_store": {**tracker_store, "db": str(stack.conversations_db)},
    }


def start_stack(
    workdir: Path,
    model: Path | None = None,
    extra_env: Dict[str, str] | None = None,
    rasa_args: List[str] | None = None,
    wait: bool = True,
    endpoints_extra: Dict[str, Any] | None = None,
    actions_env: Dict[str, str] | None = None,
    credentials: Path = CREDENTIALS,
    own_store: bool = True,
) -> Stack:
    """Both servers on free ports; `extra_env` and `rasa_args` go to the Rasa server, `actions_env` to the other.

    `wait=False` returns as soon as both processes are started: the benchmark times the cold start
    to the first answered message itself. `endpoints_extra` adds sections to the stack's endpoints.yml
    (the benchmark's Redis lock store for several Sanic workers). `credentials` and `own_store=False`
    (Rasa's default store, in memory) run a bot that is not this project's: the benchmark's peer.
    """
    rasa_port, actions_port = free_ports(2)
    stack = Stack(rasa_port=rasa_port, actions_port=actions_port, conversations_db=workdir / "conversations.db")
    endpoints = workdir / "endpoints.yml"
    sections = stack_endpoints(stack)
    if not own_store:
        del sections["tracker_store"]
        stack.conversations_db = None
    endpoints.write_text(yaml.safe_dump({**sections, **(endpoints_extra or {})}))
    try:
        stack.servers["actions"] = start(
            "actions", ["rasa_sdk", "--actions", "actions", "--port", str(stack.actions_port)], workdir, actions_env
        )
        stack.servers["rasa"] = start(
            "rasa",
            [
                "rasa",
                "run",
                "--model",
                str(model or MODEL),
                "--port",
                str(stack.rasa_port),
                "--credentials",
                str(credentials),
                "--endpoints",
                str(endpoints),
                *(rasa_args or []),
            ],
            workdir,
            # A generous reply deadline: on a busy test machine a slow turn must fail its test, not
            # quietly become the apology. The fault tests set their own.
            {TRACKER_STORE_URL: "", REPLY_DEADLINE_ENV: "60", **(extra_env or {})},
        )
        if wait:
            wait_until_up(stack.servers["actions"], f"http://127.0.0.1:{stack.actions_port}/health")
            wait_until_up(stack.servers["rasa"], f"{stack.url}/webhooks/rest/")
    except Exception:
        stack.stop()
        raise
    return stack


def start_demo(rasa_url: str, log_dir: Path, port: int | None = None) -> Tuple[Server, str]:
    """The demo hospital page (scripts/serve_demo.py) with its widget pointed at `rasa_url`."""
    port = port or free_port()
    server = start("demo", ["scripts.serve_demo", "--port", str(port), "--rasa-url", rasa_url], log_dir)
    url = f"http://localhost:{port}/"
    wait_until_up(server, url)
    return server, url
