"""With the action server stopped, urgent messages still get the numbers."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.servers import Stack


def test_urgent_and_emergency_replies_need_no_action_server(stack: Stack) -> None:
    stack.stop_action_server()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{stack.actions_port}/health", timeout=5)

    urgent = stack.send("the pump is alarming and she is really floppy", f"parent-{uuid.uuid4().hex[:8]}")
    assert urgent[0]["custom"]["kind"] == "urgent"
    assert "(03) 9345 5522" in urgent[0]["text"]

    emergency = stack.send("he is having a seizure", f"parent-{uuid.uuid4().hex[:8]}")
    assert emergency[0]["text"].startswith("Call 000")
    assert "(03) 9345 5522" in emergency[0]["text"]
