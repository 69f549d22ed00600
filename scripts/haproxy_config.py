"""HAProxy's configuration for the replicas, rendered from the one template for where they run.

deploy/haproxy/haproxy.cfg.template holds every rule (what is sticky, what is round robin, what is
refused from outside, the retries); this fills in only where things are. Two places use it: the
processes on 127.0.0.1 that `make cluster`, `make bench-cluster` and tests/test_cluster.py start
(harness/cluster.py), and compose's containers, whose file `python -m scripts.haproxy_config`
writes to deploy/haproxy/haproxy.cfg (tests/test_deploy_files.py fails when it is out of date).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Dict, List

from paths import HAPROXY_COMPOSE_CONFIG, HAPROXY_TEMPLATE

STICKY_COOKIE = "ITBSRV"
# A health check every second; two failures in a row take a server out. A killed replica refuses the
# connection, so it is out within about 2 s (and retry-on conn-failure covers those seconds); a busy one
# is given `timeout check` (the template) to answer, so a burst of load never takes every replica out.
CHECK = "check inter 1s fall 2 rise 1"
# Where the Rasa HTTP API and /webhooks/rest/ may be called from, when HAProxy sees the client's own address.
PRIVATE_NETWORKS = "127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"
# Docker's own DNS, so that a replica started again (with a new address) is found again.
DOCKER_RESOLVERS = "\nresolvers docker\n    nameserver dns 127.0.0.11:53\n    hold valid 10s\n"
# A server not (yet) resolvable is started as down, not refused: HAProxy starts while a replica is down.
DOCKER_DEFAULT_SERVER = "    default-server init-addr last,libc,none resolvers docker\n"


@dataclass(frozen=True)
class Balancer:
    """Where the balancer listens and where each server is (name: host:port)."""

    public_bind: str
    actions_bind: str
    rasa: Dict[str, str]
    actions: Dict[str, str]
    demo: str
    # Sources allowed the Rasa API and /webhooks/rest/.
    hospital_network: str = PRIVATE_NETWORKS
    # Containers: servers found by Docker's DNS, and HAProxy starts while one is down.
    docker_dns: bool = False
    # Behind HTTPS (compose, a hospital's proxy in front): the cookie for a widget on another site.
    cross_site_cookie: bool = False


def server_lines(servers: Dict[str, str], extra: str = "") -> List[str]:
    return [f"    server {name} {address} {CHECK}{extra.format(name=name)}" for name, address in servers.items()]


def render(balancer: Balancer) -> str:
    values = {
        "RESOLVERS": DOCKER_RESOLVERS if balancer.docker_dns else "",
        "DEFAULT_SERVER": DOCKER_DEFAULT_SERVER if balancer.docker_dns else "",
        "PUBLIC_BIND": balancer.public_bind,
        "ACTIONS_BIND": balancer.actions_bind,
        "HOSPITAL_NETWORK": balancer.hospital_network,
        "STICKY_COOKIE": STICKY_COOKIE,
        "COOKIE_ATTRIBUTES": ' secure attr "SameSite=None"' if balancer.cross_site_cookie else "",
        "RASA_SERVERS": "\n".join(server_lines(balancer.rasa)),
        # A socket.io session id begins with its replica's name (connectors/socketio.py): no cookie needed.
        "SESSION_ROUTES": "\n".join(
            f"    use-server {name} if {{ urlp(sid) -m beg {name}. }}" for name in balancer.rasa
        ),
        "STICKY_SERVERS": "\n".join(server_lines(balancer.rasa, " cookie {name}")),
        "DEMO": balancer.demo,
        "ACTION_SERVERS": "\n".join(server_lines(balancer.actions)),
    }
    text = HAPROXY_TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def local(balancer: int, actions: int, rasa: Dict[str, int], action_servers: Dict[str, int], demo: int) -> Balancer:
    """The processes of harness/cluster.py, all on 127.0.0.1."""
    return Balancer(
        public_bind=f"127.0.0.1:{balancer}",
        actions_bind=f"127.0.0.1:{actions}",
        rasa={name: f"127.0.0.1:{port}" for name, port in rasa.items()},
        actions={name: f"127.0.0.1:{port}" for name, port in action_servers.items()},
        demo=f"127.0.0.1:{demo}",
    )


# deploy/compose.yml's services. Outside requests reach the balancer through Docker's gateway, so no source
# address is the hospital's: the Rasa API and REST only from the balancer's own container.
COMPOSE = Balancer(
    public_bind=":8080",
    actions_bind=":5055",
    rasa={"rasa-1": "rasa-1:5005", "rasa-2": "rasa-2:5005"},
    actions={"actions-1": "actions-1:5055", "actions-2": "actions-2:5055"},
    demo="demo:8080",
    hospital_network="127.0.0.0/8",
    docker_dns=True,
    cross_site_cookie=True,
)
GENERATED = "# Written by `python -m scripts.haproxy_config` from haproxy.cfg.template, for deploy/compose.yml.\n"


def compose_config() -> str:
    return GENERATED + render(COMPOSE)


def main() -> None:
    parser = argparse.ArgumentParser(description=f"Write {HAPROXY_COMPOSE_CONFIG.name} for compose from the template.")
    parser.parse_args()
    HAPROXY_COMPOSE_CONFIG.write_text(compose_config(), encoding="utf-8")
    print(f"Wrote {HAPROXY_COMPOSE_CONFIG}")


if __name__ == "__main__":
    main()
