"""Checks that the ports the servers need are free, before any of them starts.

A Sanic server whose port is taken dies with an OSError traceback after it has
loaded everything, and `make run` would then stop the other servers too. This
tries each port the way the server will bind it, and when one is taken says
which, what probably holds it, and which variable picks another port. Called by
scripts/run.sh and scripts/shell.sh, e.g.:

    python scripts/check_ports.py --command "make run" actions=5055 rasa=5005 demo=8080
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Dict, List, Tuple


@dataclass(frozen=True)
class Server:
    title: str  # as the message names it
    variable: str  # the environment variable (or make variable) that sets its port
    host: str  # the interface it binds


# The interfaces are the ones scripts/run.sh and scripts/shell.sh start the servers on:
# `rasa run` binds all interfaces (its --interface default); the action server
# (SANIC_HOST), `rasa shell` (--interface) and the demo page (scripts/serve_demo.py) 127.0.0.1.
SERVERS: Dict[str, Server] = {
    "actions": Server("the action server", "ACTIONS_PORT", "127.0.0.1"),
    "rasa": Server("the Rasa server", "RASA_PORT", "0.0.0.0"),
    "demo": Server("the demo page", "DEMO_PORT", "127.0.0.1"),
    "shell": Server("the Rasa server of `make shell`", "SHELL_PORT", "127.0.0.1"),
}
PROBE_TIMEOUT = 1.0  # seconds; only to recognise one of our own servers


def bind_error(host: str, port: int) -> int | None:
    """Why a server could not bind `host:port` now (an errno), if it couldn't.

    With SO_REUSEADDR, as Sanic and http.server set it, so a port whose last
    connections are still in TIME_WAIT counts as free, as it is for them.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno
    return None


def is_free(host: str, port: int) -> bool:
    return bind_error(host, port) is None


def fetch(port: int, path: str) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=PROBE_TIMEOUT) as response:
            return response.read(4096).decode("utf-8", "replace")
    except (OSError, urllib.error.URLError, ValueError):
        return ""


def holder(port: int) -> Tuple[str, str]:
    """A guess at what holds the port (our own servers say who they are over HTTP), and how to stop it."""
    in_its_terminal = "stop it (Ctrl-C in its terminal)"
    root = fetch(port, "/")
    if root.startswith("Hello from Rasa"):
        return "a Rasa server answers there, probably another `make run` or `make shell`", in_its_terminal
    if "itb-chat.js" in root:
        return "the demo page of another `make run` answers there", in_its_terminal
    if '"status"' in fetch(port, "/health"):
        return "an action server answers there, probably another `make run`", in_its_terminal
    return (
        "another program holds it",
        f"find it with  ss -ltnp 'sport = :{port}'  (or  lsof -i :{port})  and stop it",
    )


def free_alternative(server: Server, port: int, taken: List[int]) -> int | None:
    """A nearby port that is free now, to suggest in the message."""
    for candidate in range(port + 10, min(port + 110, 65536), 10):
        if candidate not in taken and is_free(server.host, candidate):
            return candidate
    return None


def problems(command: str, ports: List[Tuple[str, str]]) -> List[str]:
    messages = []
    wanted = [int(port) for _, port in ports if port.isdigit()]
    seen: Dict[int, Server] = {}
    for name, text in ports:
        server = SERVERS[name]
        port = int(text) if text.isdigit() else 0
        if not 0 < port < 65536:
            messages.append(f"{server.variable}={text!r} is not a port number (1-65535).")
            continue
        if port in seen:
            messages.append(
                f"{seen[port].variable} and {server.variable} are both {port}: give each server its own port, "
                f"e.g. {command} {server.variable}={port + 10}"
            )
            continue
        seen[port] = server
        error = bind_error(server.host, port)
        if error is None:
            continue
        alternative = free_alternative(server, port, wanted)
        pick = f"{command} {server.variable}={alternative or '<another port>'}"
        if error == errno.EADDRINUSE:
            what, stop = holder(port)
            messages.append(
                f"Can't start {server.title}: port {port} is already in use; {what}.\n"
                f"Either {stop}, or use another port:  {pick}"
            )
        else:
            messages.append(
                f"Can't start {server.title} on port {port}: {os.strerror(error)}"
                + (" (ports below 1024 need root)" if port < 1024 else "")
                + f". Choose another port:  {pick}"
            )
    return messages


def port_argument(text: str) -> Tuple[str, str]:
    name, _, port = text.partition("=")
    if name not in SERVERS:
        raise argparse.ArgumentTypeError(f"unknown server {name!r}; one of {', '.join(SERVERS)}")
    return name, port.strip()


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", default="make run", help="the command to suggest with another port")
    parser.add_argument("ports", nargs="+", type=port_argument, metavar="SERVER=PORT", help=", ".join(SERVERS))
    args = parser.parse_args(argv)
    messages = problems(args.command, args.ports)
    for message in messages:
        print(message, file=sys.stderr)
    return 1 if messages else 0


if __name__ == "__main__":
    sys.exit(main())
