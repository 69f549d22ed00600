"""Several Rasa replicas behind HAProxy, on PostgreSQL and Redis, as real processes on 127.0.0.1.

Used by `make cluster` (scripts/cluster.py), `make bench-cluster` (bench/cluster.py) and
tests/test_cluster.py, so the three run the same topology:

    parents ──> HAProxy :balancer ─┬─ /socket.io/  sticky (session id, cookie) ──> Rasa replicas
                                   ├─ /webhooks/, the HTTP API  round robin ───────> Rasa replicas
                                   └─ everything else (the demo page) ─────────────> demo page
    Rasa replicas ──> HAProxy :actions (127.0.0.1 only), round robin ─────────────> action servers
    Rasa replicas ──> PostgreSQL (conversations), Redis (one turn at a time per conversation)

Each Rasa replica is one process with one Sanic worker (Rasa's socket.io channel does not support
several workers in one process), on the project's tracker store (TRACKER_STORE_URL) and the atomic
lock store (conversations/lock.py, REDIS_URL). Each gets a PostgreSQL pool of POOL_SIZE + MAX_OVERFLOW
connections (docs/deploy.md has the budget).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import sqlalchemy as sa
import yaml

from conversations.ids import REPLICA_VARIABLE
from harness.servers import Server, free_ports, start, wait_until_up
from paths import CREDENTIALS, MODEL
from scripts.haproxy_config import local, render

HAPROXY = Path(shutil.which("haproxy") or "/usr/sbin/haproxy")
# Per Rasa process: 5 connections and 5 more under load. N replicas need N × 10 of PostgreSQL's
# max_connections (100 by default, 3 of them kept for superusers); docs/deploy.md.
POOL_SIZE = 5
MAX_OVERFLOW = 5
ROUTED_TIMEOUT = 30  # seconds for HAProxy to put a restarted replica back (it checks every second)


@dataclass
class Cluster:
    """The running processes, by name (rasa-1, actions-1, haproxy, demo), and where to reach them."""

    workdir: Path
    balancer_port: int
    actions_port: int
    rasa_ports: Dict[str, int]
    action_ports: Dict[str, int]
    env: Dict[str, str]
    model: Path
    servers: Dict[str, Server] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.balancer_port}"

    def replica_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[name]}"

    def kill(self, name: str) -> None:
        """`kill -9`: the process gets no chance to finish what it is doing."""
        server = self.servers[name]
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()

    def start_replica(self, name: str, wait: bool = True) -> None:
        port = self.rasa_ports[name]
        self.servers[name] = start(
            name,
            [
                "rasa",
                "run",
                "--model",
                str(self.model),
                "--port",
                str(port),
                "--interface",
                "127.0.0.1",
                "--credentials",
                str(CREDENTIALS),
                "--endpoints",
                str(self.workdir / "endpoints.yml"),
            ],
            self.workdir,
            {**self.env, REPLICA_VARIABLE: name},  # its socket.io session ids begin with its name
        )
        if wait:
            wait_until_up(self.servers[name], f"{self.replica_url(name)}/")
            if "haproxy" in self.servers:
                self.wait_until_routed(name)

    def wait_until_routed(self, name: str, timeout: float = ROUTED_TIMEOUT) -> None:
        """Until HAProxy sends requests to replica `name` again, in every backend that has it.

        A restarted replica answers before HAProxy's next health check puts it back in rotation;
        meanwhile the other replica is the only one, and a test that then kills it gets a 502 where
        it expected the balancer to send the request on. HAProxy logs each change of a server's state,
        so the replica is routed once no backend's latest line for it says DOWN (a replica it never
        marked down has no line at all). A replica takes longer to start than HAProxy takes to mark it
        down (two failed checks, 1 s apart), so the DOWN line is always there before this looks.
        """
        haproxy = self.servers["haproxy"]
        pattern = re.compile(rf"Server (\S+)/{re.escape(name)} is (UP|DOWN)")
        deadline = time.monotonic() + timeout
        while True:
            states = dict(pattern.findall(haproxy.log.read_text(errors="replace")))
            if all(state == "UP" for state in states.values()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy did not route to {name} within {timeout} s:\n{haproxy.log_tail()}")
            time.sleep(0.1)  # polling HAProxy's log for its health check's verdict

    def start_action_server(self, name: str, wait: bool = True) -> None:
        port = self.action_ports[name]
        self.servers[name] = start(
            name, ["rasa_sdk", "--actions", "actions", "--port", str(port)], self.workdir, {"SANIC_HOST": "127.0.0.1"}
        )
        if wait:
            wait_until_up(self.servers[name], f"http://127.0.0.1:{port}/health")

    def stop(self) -> None:
        for server in reversed(list(self.servers.values())):
            server.stop()


def endpoints(actions_port: int) -> Dict[str, object]:
    return {
        "action_endpoint": {"url": f"http://127.0.0.1:{actions_port}/webhook"},
        "tracker_store": {"type": "conversations.store.ConversationStore"},
        "lock_store": {"type": "conversations.lock.AtomicRedisLockStore"},
    }


def start_cluster(
    tracker_store_url: str,
    redis_url: str,
    replicas: int = 2,
    action_servers: int = 2,
    workdir: Path | None = None,
    model: Path = MODEL,
    balancer_port: int | None = None,
    extra_env: Dict[str, str] | None = None,
) -> Cluster:
    """Every process of the cluster, up and answering; stop it with `Cluster.stop()`."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="itb-cluster-"))
    ports = free_ports(2 + replicas + action_servers + 1)
    balancer, actions = balancer_port or ports[0], ports[1]
    rasa_ports = {f"rasa-{i + 1}": ports[2 + i] for i in range(replicas)}
    action_ports = {f"actions-{i + 1}": ports[2 + replicas + i] for i in range(action_servers)}
    demo_port = ports[-1]
    env = {
        **os.environ,
        "TRACKER_STORE_URL": tracker_store_url,
        "REDIS_URL": redis_url,
        "SQL_POOL_SIZE": str(POOL_SIZE),
        "SQL_MAX_OVERFLOW": str(MAX_OVERFLOW),
        # The pages that may use the chat: the demo page, as the browser sees it, through the balancer.
        "ALLOWED_ORIGINS": f"http://127.0.0.1:{balancer} http://localhost:{balancer}",
        **(extra_env or {}),
    }
    (workdir / "endpoints.yml").write_text(yaml.safe_dump(endpoints(actions)))
    (workdir / "haproxy.cfg").write_text(render(local(balancer, actions, rasa_ports, action_ports, demo_port)))
    cluster = Cluster(workdir, balancer, actions, rasa_ports, action_ports, env, model)
    try:
        for name in action_ports:
            cluster.start_action_server(name, wait=False)
        for name in action_ports:
            wait_until_up(cluster.servers[name], f"http://127.0.0.1:{action_ports[name]}/health")
        for name in rasa_ports:
            cluster.start_replica(name, wait=False)
        for name in rasa_ports:
            wait_until_up(cluster.servers[name], f"{cluster.replica_url(name)}/")
        cluster.servers["demo"] = start(
            "demo",
            ["scripts.serve_demo", "--port", str(demo_port), "--rasa-url", f"http://localhost:{balancer}"],
            workdir,
        )
        cluster.servers["haproxy"] = haproxy(workdir)
        wait_until_up(cluster.servers["haproxy"], f"{cluster.url}/webhooks/rest/")
    except Exception:
        cluster.stop()
        raise
    return cluster


def haproxy(workdir: Path) -> Server:
    """HAProxy in the foreground (-db), so that stopping the Server stops it."""
    log = workdir / "haproxy.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [str(HAPROXY), "-db", "-f", str(workdir / "haproxy.cfg")], stdout=handle, stderr=subprocess.STDOUT
        )
    return Server("haproxy", process, log)


def stored_turns(tracker_store_url: str, conversation: str) -> List[Tuple[str, str]]:
    """A conversation as PostgreSQL holds it: ("user", text) and ("bot", text), in the order stored.

    Read from the database, not from a replica, so that what was acknowledged to a parent can be
    checked against what survived: the tests' and the fault benchmark's ground truth.
    """
    engine = sa.create_engine(tracker_store_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT type_name, data FROM events WHERE sender_id = :conversation "
                    "AND type_name IN ('user', 'bot') ORDER BY id"
                ),
                {"conversation": conversation},
            )
            return [(kind, json.loads(data).get("text") or "") for kind, data in rows]
    finally:
        engine.dispose()
