"""`make cluster`: several Rasa replicas behind HAProxy, on PostgreSQL and Redis, on this machine.

The topology harness/cluster.py describes (the one the cluster tests and `make bench-cluster` run), with
the demo page served through the balancer. Before starting anything it checks what would otherwise
fail half-way: PostgreSQL and Redis answer (and says how to start them if not), the database exists
(created if not), the balancer's port is free. Ctrl-C stops every process.

Settings (environment or make variables): REPLICAS (2), ACTION_SERVERS (2), CLUSTER_PORT (8080),
TRACKER_STORE_URL (postgresql://postgres@127.0.0.1:5432/itb_cluster), REDIS_URL (redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
from typing import List

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from conversations.lock import why_unreachable
from harness.cluster import start_cluster
from paths import MODEL

DEFAULT_STORE = "postgresql://postgres@127.0.0.1:5432/itb_cluster"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
START_POSTGRES = "Debian: pg_ctlcluster 15 main start (or systemctl start postgresql)"
START_REDIS = "Debian: systemctl start redis-server (or redis-server --daemonize yes)"


def fail(*lines: str) -> None:
    print("\n".join(lines), file=sys.stderr)
    sys.exit(1)


def ensure_database(url: str) -> None:
    """The database TRACKER_STORE_URL names, created if the server has none of that name."""
    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        fail(f"TRACKER_STORE_URL must name a PostgreSQL database for a cluster, not {target.get_backend_name()}.")
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).first()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
                print(f"Created the database {target.database}.")
    except sa.exc.OperationalError as error:
        fail(
            f"PostgreSQL at {target.render_as_string(hide_password=True)} does not answer: {error.orig}",
            f"Start it ({START_POSTGRES}), or set TRACKER_STORE_URL to one that runs.",
        )
    finally:
        server.dispose()


def ensure_redis(url: str) -> None:
    reason = why_unreachable(url)
    if reason:
        fail(f"Redis at {url} does not answer ({reason}).", f"Start it ({START_REDIS}), or set REDIS_URL.")


def ensure_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            fail(f"Port {port} is taken (make run's demo page?): stop that, or pick another with CLUSTER_PORT=8090.")


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("REPLICAS") or 2))
    parser.add_argument("--action-servers", type=int, default=int(os.environ.get("ACTION_SERVERS") or 2))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT") or 8080))
    args = parser.parse_args(argv)
    if args.replicas < 1 or args.action_servers < 1:
        fail("REPLICAS and ACTION_SERVERS must be at least 1.")
    store = os.environ.get("TRACKER_STORE_URL") or DEFAULT_STORE
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    ensure_database(store)
    ensure_redis(redis_url)
    ensure_port_free(args.port)
    print(f"Starting {args.replicas} Rasa replica(s) and {args.action_servers} action server(s) behind HAProxy...")
    try:
        cluster = start_cluster(
            store, redis_url, args.replicas, args.action_servers, model=MODEL, balancer_port=args.port
        )
    except RuntimeError as error:  # a process that died or didn't answer in time, with its log's tail
        fail(f"The cluster did not start: {error}")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    conversations = make_url(store).render_as_string(hide_password=True)
    print(
        f"\nThe assistant is up, through the balancer:\n"
        f"  demo page with the chat widget  http://localhost:{args.port}/\n"
        f"  REST (from this machine)        http://localhost:{args.port}/webhooks/rest/webhook\n"
        f"  replicas {', '.join(cluster.rasa_ports)}; conversations in {conversations}; locks in {redis_url}\n"
        f"  logs in {cluster.workdir}\n"
        "Ctrl-C stops everything."
    )
    reported = set()
    while not stopping:
        for name, server in cluster.servers.items():
            if server.process.poll() is not None and name not in reported:
                reported.add(name)  # the others carry on: that is what the cluster is for
                print(f"{name} has stopped (exit code {server.process.returncode}); see {server.log}", file=sys.stderr)
        time.sleep(0.5)
    print("\nStopping the cluster...")
    cluster.stop()
    print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
