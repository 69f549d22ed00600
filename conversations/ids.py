"""Every conversation belongs to its channel: its stored id is the channel's name, a colon, and its own id.

A REST client names its own `sender`, a socket.io client its own session id, and an SMS conversation's
id is the parent's phone number. With one id space, a REST client that knew a number could add turns to
that parent's SMS conversation, or read its options. So the guard, which every channel passes through,
stores each conversation as `<channel>:<id>` (e.g. `twilio:+61480000000`, `rest:parent-1`), the channel
being the one that received the message, never a name the client sent; replies still go to the id the
platform knows. Conversations stored before this are renamed once, at start (store.py).
"""

from __future__ import annotations

import os

SEPARATOR = ":"
# Every channel's name (its `name()`): a stored id begins with one of these.
CHANNELS = frozenset({"rest", "socketio", "telegram", "twilio", "facebook", "slack", "botframework"})


def conversation_id(channel: str, sender_id: str) -> str:
    """The stored id of `sender_id`'s conversation on `channel`."""
    return f"{channel}{SEPARATOR}{sender_id}"


# Set on each Rasa replica behind a balancer (harness/cluster.py, deploy/): its server name there. Its
# socket.io session ids begin with it (connectors/socketio.py), and so do the tokens of the conversation
# locks it holds (conversations/lock.py): the balancer, and whoever reads Redis, can tell whose is whose.
REPLICA_VARIABLE = "ITB_REPLICA"


def replica_name() -> str:
    """This replica's name, or "" for a server on its own."""
    return os.environ.get(REPLICA_VARIABLE, "")
