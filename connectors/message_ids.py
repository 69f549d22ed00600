"""A message's own id, chosen where it was first sent, so that a message sent twice is stored once.

A message can reach Rasa twice: the widget sends again what a replica that died never answered,
HAProxy sends again a REST request whose replica closed the connection without a reply
(deploy/haproxy/), a REST client retries after a timeout. Each time the parent must get an
answer, so the turn runs again; but if the first attempt was stored before its replica died, the
conversation would hold the message twice. So the client names each message once (the widget: its
`metadata.message_id`; REST: the same in the body, or the `X-Request-ID` header that HAProxy adds
and keeps across its retries), that name becomes the stored message's `message_id`, and the store
keeps a turn whose message is already in the conversation out (conversations/store.py).

Ids are only ever compared within one conversation, which belongs to its channel
(conversations/ids.py): a client can name its own messages, nobody else's.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

METADATA_KEY = "message_id"
HEADER = "X-Request-ID"
# A UUID, HAProxy's uuid(), or any similar token; never free text, which is stored.
SHAPE = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


def client_message_id(metadata: Mapping[str, Any] | None) -> str | None:
    """The id the client gave this message, if it gave a well-formed one."""
    if not isinstance(metadata, Mapping):
        return None
    value = metadata.get(METADATA_KEY)
    return value if isinstance(value, str) and SHAPE.fullmatch(value) else None
