"""A stand-in for the messaging platforms' APIs, on 127.0.0.1, that records what the bot sends.

The channel tests point each channel's API URL (TELEGRAM_API_URL, TWILIO_API_URL,
...) at one `PlatformStub`, under a path per platform, so no request leaves the
machine. It answers each call with the JSON the client library expects, so the
library reports success and Rasa carries on as it would in production.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any, Callable, Dict, List, Tuple
from urllib.parse import parse_qs, urlsplit

TELEGRAM_BOT_USERNAME = "itb_parents_test_bot"
TELEGRAM_BOT = {
    "id": 1234567,
    "is_bot": True,
    "first_name": "ITB parents' assistant",
    "username": TELEGRAM_BOT_USERNAME,
}
BOTFRAMEWORK_TOKEN = {"token_type": "Bearer", "expires_in": 3600, "access_token": "stub-access-token"}
BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
WAIT_TIMEOUT = 60  # seconds; a reply may wait for the action server on a busy 2-core machine

Reply = Tuple[int, Any]


@dataclass
class Recorded:
    """One request the bot made to a platform."""

    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    body: bytes

    @property
    def fields(self) -> Dict[str, Any]:
        """The body as the platform reads it: JSON, or a form (Telegram, Twilio, OAuth) with one value per name."""
        if not self.body:
            return {}
        if "json" in self.headers.get("content-type", ""):
            return json.loads(self.body)
        return {name: values[0] for name, values in parse_qs(self.body.decode("utf-8")).items()}


Matcher = Callable[[Recorded], bool]


@dataclass
class PlatformStub:
    """A recording HTTP server answering as Telegram, Twilio, Facebook, Slack and Bot Framework do."""

    jwks: List[Dict[str, Any]] = field(default_factory=list, repr=False)  # Bot Framework's keys, set by the test
    requests: List[Recorded] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._ids = count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="platform-stub", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> PlatformStub:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, request: Recorded) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def wait_for(self, matches: Matcher, count: int = 1, timeout: float = WAIT_TIMEOUT) -> List[Recorded]:
        """The first `count` requests that match, in the order they arrived; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [request for request in self.requests if matches(request)]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    break
                self._changed.wait(remaining)
        assert len(found) >= count, f"expected {count} matching request(s) within {timeout}s, got {len(found)}:\n" + (
            "\n".join(f"{r.method} {r.path} {r.body[:300]!r}" for r in self.requests[-10:])
        )
        return found[:count]

    def matching(self, matches: Matcher) -> List[Recorded]:
        with self._changed:
            return [request for request in self.requests if matches(request)]

    def answer(self, request: Recorded) -> Reply:
        routes: List[Tuple[str, Callable[[Recorded, re.Match], Reply]]] = [
            (r"/telegram/bot[^/]+/getMe", lambda r, m: (200, {"ok": True, "result": TELEGRAM_BOT})),
            (r"/telegram/bot[^/]+/send\w+", self._telegram_message),
            (r"/telegram/bot[^/]+/\w+", lambda r, m: (200, {"ok": True, "result": True})),
            (r"/twilio/2010-04-01/Accounts/(\w+)/Messages\.json", self._twilio_message),
            (r"/facebook/v[0-9.]+/me/messages", self._facebook_message),
            (
                r"/slack/chat\.postMessage",
                lambda r, m: (200, {"ok": True, "channel": r.fields["channel"], "ts": "1.1"}),
            ),
            (r"/botframework/token", lambda r, m: (200, BOTFRAMEWORK_TOKEN)),
            (r"/botframework/openid", lambda r, m: (200, self._botframework_openid_config())),
            (r"/botframework/keys", lambda r, m: (200, {"keys": self.jwks})),
            (r"/teams/v3/conversations/[^/]+/activities", lambda r, m: (200, {"id": f"activity-{next(self._ids)}"})),
        ]
        for pattern, respond in routes:
            found = re.fullmatch(pattern, request.path)
            if found:
                return respond(request, found)
        return 404, {"error": f"the stub has no answer for {request.method} {request.path}"}

    def _botframework_openid_config(self) -> Dict[str, Any]:
        """As login.botframework.com's: who issues the tokens, and where its signing keys are."""
        return {"issuer": BOTFRAMEWORK_ISSUER, "jwks_uri": f"{self.url}/botframework/keys"}

    def _telegram_message(self, request: Recorded, _: re.Match) -> Reply:
        sent = request.fields
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(sent["chat_id"]), "type": "private"},
            "from": TELEGRAM_BOT,
            "text": sent.get("text", ""),
        }
        return 200, {"ok": True, "result": message}

    def _twilio_message(self, request: Recorded, found: re.Match) -> Reply:
        sent = request.fields
        return 201, {
            "sid": f"SM{next(self._ids):032d}",
            "account_sid": found.group(1),
            "to": sent.get("To"),
            "from": sent.get("From"),
            "body": sent.get("Body"),
            "status": "queued",
        }

    def _facebook_message(self, request: Recorded, _: re.Match) -> Reply:
        return 200, {"recipient_id": request.fields["recipient"]["id"], "message_id": f"m_{next(self._ids)}"}


def _handler_for(stub: PlatformStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Recorded(
                method=self.command,
                path=url.path,
                query={name: values[0] for name, values in parse_qs(url.query).items()},
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            stub.record(request)
            status, payload = stub.answer(request)
            encoded = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            """Quiet: pytest shows the recorded requests when a test fails."""

    return Handler
