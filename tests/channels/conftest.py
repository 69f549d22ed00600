"""The one Rasa server with all five messaging channels on that the tests here share (start-up takes about a minute)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from harness.servers import Stack, start_stack
from tests.support.channel_stubs import PlatformStub
from tests.support.channels import (
    BOTFRAMEWORK_KEY_ID,
    channel_env,
)


@pytest.fixture(scope="package")
def botframework_key(platforms: PlatformStub) -> rsa.RSAPrivateKey:
    """The key "Bot Framework" signs its requests with; the stub publishes its public half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    platforms.jwks.append({**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": BOTFRAMEWORK_KEY_ID})
    return key


@pytest.fixture(scope="package")
def channels(
    model_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    platforms: PlatformStub,
    botframework_key: rsa.RSAPrivateKey,
) -> Iterator[Stack]:
    """One Rasa server with all five channels on, for every test in tests/channels/ (start-up takes about a minute)."""
    running = start_stack(tmp_path_factory.mktemp("channels"), model_path, extra_env=channel_env(platforms.url))
    yield running
    running.stop()
