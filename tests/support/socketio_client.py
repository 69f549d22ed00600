"""Talking to the Rasa server's socket.io channel as the web widget does, for end-to-end tests."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, List

import socketio


async def socketio_replies(url: str, text: str, count: int) -> List[Dict[str, Any]]:
    """Open a session, say `text`, and return the first `count` `bot_uttered` events."""
    client, session_id = socketio.AsyncClient(), uuid.uuid4().hex
    replies: asyncio.Queue = asyncio.Queue()
    confirmed: asyncio.Queue = asyncio.Queue()
    client.on("bot_uttered", replies.put)
    client.on("session_confirm", confirmed.put)
    await client.connect(url, socketio_path="/socket.io", transports=["websocket"])
    try:
        await client.emit("session_request", {"session_id": session_id})
        assert await asyncio.wait_for(confirmed.get(), 30) == session_id
        await client.emit("user_uttered", {"message": text, "session_id": session_id})
        return [await asyncio.wait_for(replies.get(), 60) for _ in range(count)]
    finally:
        await client.disconnect()
