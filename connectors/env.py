"""Which messaging channels are on: decided from environment variables, in one place.

Rasa expands `${VAR}` in credentials.yml but refuses to start when one is unset,
so a server with only Telegram set up could not run at all. Instead each
messaging channel lists its variables here: when they are all set it is built as
usual; when any is missing it is replaced by a `NotConfiguredChannel` that keeps
the channel's webhook URL answering with what to set, builds no client for the
platform and never reaches the network.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, ClassVar, Dict, Mapping, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelEnv:
    """The environment variables one channel reads.

    `required` are the secrets and addresses without which the channel cannot
    work; `optional` maps each other variable to its default (e.g. the
    platform's real API URL, which a proxy or a test stub can replace).
    """

    title: str
    required: Tuple[str, ...]
    optional: Mapping[str, str] = field(default_factory=dict)

    def missing(self, environ: Mapping[str, str]) -> Tuple[str, ...]:
        # An empty value counts as unset: `FOO=` in an env file means "not configured".
        return tuple(name for name in self.required if not environ.get(name, "").strip())

    def values(self, environ: Mapping[str, str]) -> Dict[str, str]:
        settings = {name: environ[name].strip() for name in self.required}
        settings.update({name: environ.get(name, "").strip() or default for name, default in self.optional.items()})
        return settings


def channel_from_env(
    channel_class: type[InputChannel],
    env: ChannelEnv,
    build: Callable[[Dict[str, str]], InputChannel],
    credentials: Dict[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> InputChannel:
    """The channel built from its variables, or its not-configured stand-in.

    `credentials` are only checked for: secrets belong in the environment, and a
    value left in credentials.yml would silently not be used.
    """
    if credentials:
        logger.warning(
            "%s reads its settings from environment variables; ignoring %s in credentials.yml.",
            channel_class.__name__,
            ", ".join(sorted(credentials)),
        )
    environ = os.environ if environ is None else environ
    missing = env.missing(environ)
    if missing:
        logger.info("The %s channel is off: set %s to turn it on.", env.title, ", ".join(missing))
        return NotConfiguredChannel(channel_class.name(), f"{env.title} is not configured: set {', '.join(missing)}")
    logger.info("The %s channel is on.", env.title)
    return build(env.values(environ))


class ConfiguredFromEnv:
    """Mixed in before a Rasa input channel: build it from `settings`, its environment variables.

    Rasa calls `from_credentials` with the channel's (empty) entry in
    credentials.yml; each channel only says which variables it reads
    (`settings`) and how they map onto its constructor (`from_settings`).
    """

    settings: ClassVar[ChannelEnv]

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return channel_from_env(cls, cls.settings, cls.from_settings, credentials)

    @classmethod
    def from_settings(cls, values: Dict[str, str]) -> InputChannel:
        raise NotImplementedError(f"{cls.__name__} must say how its variables build it.")


class NotConfiguredChannel(InputChannel):
    """Stands in for a channel whose variables are not set.

    Its webhook URLs stay registered so that a platform (or an administrator
    testing the URL) gets a clear 503 with what to set, rather than a 404 that
    looks like a wrong address.
    """

    def __init__(self, url_prefix: str, error: str) -> None:
        self._url_prefix = url_prefix
        self.error = error

    def url_prefix(self) -> str:
        return self._url_prefix

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"{self._url_prefix}_not_configured", __name__)

        async def not_configured(_: Request, path: str = "") -> HTTPResponse:
            return response.json({"error": self.error}, status=503)

        blueprint.add_route(not_configured, "/", methods=["GET", "POST"])
        blueprint.add_route(not_configured, "/<path:path>", methods=["GET", "POST"])
        return blueprint

    def get_output_channel(self) -> OutputChannel | None:
        return None
