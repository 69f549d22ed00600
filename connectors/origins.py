"""Which web pages may talk to the assistant from a browser: one allowlist, from the environment.

Browsers send an `Origin` header with every cross-site request and WebSocket.
CORS headers only stop a page from *reading* a reply; a WebSocket or a simple
POST from any site would still reach the bot and put words in a parent's
conversation. So the REST and socket.io channels refuse a browser request whose
origin is not listed, and `scripts/run.sh` gives Rasa's `--cors` the same list
so that listed pages may read the replies.
"""

from __future__ import annotations

import os
import sys
from typing import FrozenSet, Mapping

from sanic import response
from sanic.response import HTTPResponse

ALLOWED_ORIGINS_ENV = "ALLOWED_ORIGINS"
# The demo hospital page `make run` serves (scripts/serve_demo.py, DEMO_PORT).
DEFAULT_DEMO_PORT = "8080"
NOT_ALLOWED = "This page's origin may not use the assistant: the server's ALLOWED_ORIGINS does not list it."


def allowed_origins(environ: Mapping[str, str] | None = None) -> FrozenSet[str]:
    """`ALLOWED_ORIGINS` (space- or comma-separated), or the demo page's origin when it is unset.

    An origin is scheme://host[:port] with no path, as browsers send it; a
    trailing slash is forgiven because it is the commonest slip.
    """
    environ = os.environ if environ is None else environ
    configured = environ.get(ALLOWED_ORIGINS_ENV, "").replace(",", " ").split()
    if configured:
        return frozenset(origin.rstrip("/") for origin in configured)
    return frozenset({f"http://localhost:{environ.get('DEMO_PORT', '').strip() or DEFAULT_DEMO_PORT}"})


def origin_allowed(origin: str | None, allowed: FrozenSet[str]) -> bool:
    """A request without `Origin` is not from a web page (curl, a messaging platform): allowed.

    "*" allows every page, as it does for Rasa's `--cors`: for a public widget
    that any site may embed, knowingly.
    """
    return not origin or origin in allowed or "*" in allowed


def refused_origin() -> HTTPResponse:
    return response.json({"error": NOT_ALLOWED}, status=403)


if __name__ == "__main__":
    # For scripts/run.sh: the same list, for `rasa run --cors`.
    sys.stdout.write(" ".join(sorted(allowed_origins())) + "\n")
