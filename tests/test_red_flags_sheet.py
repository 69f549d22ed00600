"""The red flags implement the hospital's own list, "When to call your child's baclofen doctor" (RCH ITB 4).

Each red-flag category (content/red_flags.yml) names the items of that list it implements, or says why it
is the project's own safety addition. Here: every item of the list, as the sheet prints it, is implemented;
nothing claims an item the sheet doesn't have; and for every item, parents describing it happening now
(tests/urgency/sheet4_now.yml, several wordings each, written for this test) get the on-call number first
over REST, or 000 first where the sign is life-threatening.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest

from content_library.content import RED_FLAGS_SOURCE, Content, read_yaml
from harness.servers import Stack
from paths import URGENCY_LISTS, sources_dir
from tests.support.outside import missing

WORDINGS = URGENCY_LISTS / "sheet4_now.yml"
MIN_WORDINGS = 5


def plain(text: str) -> str:
    return " ".join(text.split())


def sheet_list(content: Content) -> List[str]:
    """The bullet items under the list's heading in the sheet's text, up to the next paragraph."""
    source = content.sources[RED_FLAGS_SOURCE["source"]]
    path = sources_dir() / source.file
    if not path.exists():
        missing(f"Fact sheet {path} is missing", "put the sheets in ../shared/sources or set ITB_SOURCES_DIR")
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == RED_FLAGS_SOURCE["section"])
    items = []
    for line in lines[start + 1 :]:
        if line.strip().startswith("•"):
            items.append(plain(line.strip().lstrip("•")))
        elif items and line.strip():
            break
    return items


def wordings() -> List[Dict[str, Any]]:
    return read_yaml(WORDINGS)["items"]


def test_the_sheet_has_the_nine_items_this_list_was_written_for(content: Content) -> None:
    assert len(sheet_list(content)) == 9


def test_every_item_of_the_sheets_list_is_implemented_by_a_red_flag_category(content: Content) -> None:
    implemented = {item for category in content.red_flags.categories.values() for item in category.implements}
    assert set(sheet_list(content)) - implemented == set()


def test_no_category_claims_an_item_the_sheet_does_not_have(content: Content) -> None:
    listed = set(sheet_list(content))
    for category in content.red_flags.categories.values():
        assert set(category.implements) <= listed, category.name


def test_every_category_implements_an_item_or_says_why_it_is_an_addition(content: Content) -> None:
    for category in content.red_flags.categories.values():
        assert category.implements or category.addition, category.name
        if category.level == "emergency" and not category.implements:
            assert "000" in category.addition, category.name


def test_every_item_has_several_wordings_written_for_it(content: Content) -> None:
    by_item = {plain(entry["item"]): entry["messages"] for entry in wordings()}
    assert set(by_item) == set(sheet_list(content))
    for item, messages in by_item.items():
        assert len(messages) >= MIN_WORDINGS, item


@pytest.mark.e2e
@pytest.mark.parametrize(
    "message",
    [pytest.param(message, id=f"{entry['item'][:40]}|{message['text'][:40]}")
     for entry in wordings() for message in entry["messages"]],
)
def test_a_parent_describing_the_item_happening_now_gets_the_number_first(
    stack: Stack, content: Content, message: Dict[str, str]
) -> None:
    replies = stack.send(message["text"], f"parent-{uuid.uuid4().hex[:8]}")
    first = replies[0]
    phone, emergency = content.contacts["hospital_phone"], content.contacts["emergency_number"]
    if message["level"] == "emergency":
        assert first["custom"]["kind"] == "emergency", first["text"]
        assert first["text"].index(emergency) < first["text"].index(phone)
    else:
        assert first["custom"]["kind"] in ("urgent", "emergency"), first["text"]
        assert phone in first["text"]
