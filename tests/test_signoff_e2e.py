"""Sign-off end to end: the real servers withhold an edited answer, and an unapproved urgent reply stops the actions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.servers import start_stack, wait_until_up
from paths import CONTENT_DIR, CONTENT_DIR_VARIABLE
from tests.support.files import edit

pytestmark = pytest.mark.e2e


def edited_content(tmp_path: Path, file: str, old: str, new: str) -> Path:
    copy = Path(shutil.copytree(CONTENT_DIR, tmp_path / "content"))
    edit(copy / file, old, new)
    return copy


def test_an_answer_edited_after_approval_is_withheld_over_http_and_the_log_warns(
    tmp_path: Path, model_path: Path
) -> None:
    content = edited_content(tmp_path, "answers.yml", "says every 4 to 12 weeks", "says every 2 to 12 weeks")
    stack = start_stack(tmp_path, model_path, actions_env={CONTENT_DIR_VARIABLE: str(content)})
    try:
        [reply] = stack.send("how often does the pump need refilling?", "parent-signoff")
        [other] = stack.send("where does the pump go", "parent-signoff")
    finally:
        stack.stop()
    assert reply["custom"]["kind"] == "withheld"
    assert "can't answer that right now" in reply["text"] and "(03) 9345 5522" in reply["text"]
    assert "weeks" not in reply["text"]
    assert other["custom"]["answer_id"] == "pump_location"  # the approved answers are served as ever
    log = (tmp_path / "actions.log").read_text(errors="replace")
    assert "Not serving 'pump_refill': changed since approval" in log


def test_an_unapproved_urgent_reply_stops_the_action_server_but_urgent_messages_still_get_the_number(
    tmp_path: Path, model_path: Path
) -> None:
    content = edited_content(
        tmp_path, "answers.yml", "{hospital_phone} straight away. A baclofen", "{hospital_phone} now. A baclofen"
    )
    stack = start_stack(tmp_path, model_path, actions_env={CONTENT_DIR_VARIABLE: str(content)}, wait=False)
    try:
        with pytest.raises(RuntimeError, match=r"actions exited[\s\S]*urgent \(changed since approval\)"):
            wait_until_up(stack.servers["actions"], f"http://127.0.0.1:{stack.actions_port}/health")
        wait_until_up(stack.servers["rasa"], f"{stack.url}/webhooks/rest/")
        replies = stack.send("his pump is beeping and he is really floppy", "parent-urgent")
    finally:
        stack.stop()
    assert replies[0]["custom"]["kind"] == "urgent" and "(03) 9345 5522" in replies[0]["text"]
