"""A parent's web widget as a program: one socket.io session that, like widget/src/connection.js, rejoins
its conversation (`session_request` with the same session id) whenever socket.io reconnects, and sends
again, under the same message id, a message the connection dropped before any reply came.

Used by the cluster test and `make bench-cluster`, where a replica is killed under a session and the
session must carry on through another. Long-polling by default: the transport that needs the balancer's
affinity (a WebSocket is one connection, pinned for its life).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, List, Sequence

import socketio

from connectors.message_ids import METADATA_KEY


class WidgetSession:
    def __init__(self, url: str, session_id: str | None = None, transports: Sequence[str] = ("polling",)) -> None:
        self.url, self.transports = url, list(transports)
        self.session_id = session_id or uuid.uuid4().hex
        self.replies: asyncio.Queue = asyncio.Queue()
        self.joined = asyncio.Event()
        # Set when the connection drops: a caller that killed its replica waits for it before saying more,
        # or the message could go out on the dead connection before socket.io notices.
        self.dropped = asyncio.Event()
        self.reconnections = 0
        self.resent = 0  # messages sent again after a dropped connection
        self.last_message_id = ""
        self.last_replies: List[Dict[str, Any]] = []
        self.client = socketio.AsyncClient(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        self.client.on("connect", self._on_connect)
        self.client.on("disconnect", self._on_disconnect)
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_uttered", self.replies.put)

    @property
    def engine_session(self) -> str:
        """engine.io's id of the current connection: on a cluster it begins with the replica's name."""
        return self.client.eio.sid or ""

    async def open(self, timeout: float = 30) -> None:
        # wait_timeout: socket.io's own wait for the namespace is 1 s, too short for a server under load.
        await self.client.connect(
            self.url, socketio_path="/socket.io", transports=self.transports, wait_timeout=timeout
        )
        await asyncio.wait_for(self.joined.wait(), timeout)

    async def say(self, text: str, replies: int = 1, timeout: float = 30) -> List[Dict[str, Any]]:
        """Send `text` once the session is (re)joined, and return its first `replies` bot messages.

        If the connection drops before the first reply (its replica died mid-turn), the message goes
        again once the session has rejoined, with the same id, so the conversation stores it once.
        Replies are matched to the message by the id they name (`in_reply_to`), as the widget does: a
        late reply to an earlier message, or the same reply twice, is not taken for this one's.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        message_id = self.last_message_id = uuid.uuid4().hex
        payload = {"message": text, "session_id": self.session_id, "metadata": {METADATA_KEY: message_id}}
        got: List[Dict[str, Any]] = []
        while True:
            await asyncio.wait_for(self.joined.wait(), max(0.0, deadline - loop.time()))
            self.dropped.clear()
            await self.client.emit("user_uttered", payload)
            first = asyncio.ensure_future(self._reply_to(message_id, got))
            dropped = asyncio.ensure_future(self.dropped.wait())
            done, _ = await asyncio.wait(
                {first, dropped}, timeout=max(0.0, deadline - loop.time()), return_when=asyncio.FIRST_COMPLETED
            )
            dropped.cancel()
            if first in done:
                break
            first.cancel()
            if not done:
                raise asyncio.TimeoutError
            self.resent += 1
        while len(got) < replies:
            await asyncio.wait_for(self._reply_to(message_id, got), timeout)
        self.last_replies = got
        return got

    async def more(self, count: int, timeout: float = 30) -> List[Dict[str, Any]]:
        """`count` more replies to the message `say` sent last, after those it returned."""
        got = list(self.last_replies)
        for _ in range(count):
            await asyncio.wait_for(self._reply_to(self.last_message_id, got), timeout)
        self.last_replies = got
        return got[-count:] if count else []

    async def _reply_to(self, message_id: str, got: List[Dict[str, Any]]) -> None:
        """Wait for the next new reply to `message_id`, and add it to `got`."""
        while True:
            reply = await self.replies.get()
            if reply.get("in_reply_to") == message_id and reply not in got:
                got.append(reply)
                return

    async def close(self) -> None:
        await self.client.disconnect()

    async def _on_connect(self) -> None:
        await self.client.emit("session_request", {"session_id": self.session_id})

    async def _on_disconnect(self) -> None:
        self.joined.clear()
        self.reconnections += 1
        self.dropped.set()

    async def _on_confirm(self, session_id: Any) -> None:
        if session_id == self.session_id:
            self.joined.set()
