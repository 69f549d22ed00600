"""Hermetic checks of what is screened before the model: request shape, origin, language."""

from __future__ import annotations

import json

import pytest
import yaml

from connectors.origins import allowed_origins, origin_allowed
from connectors.rest import request_error
from nlu.screen import OTHER_LANGUAGE, reading
from paths import ROOT, all_nlu_data


@pytest.mark.parametrize(
    "body, complaint",
    [
        (b"{not json", "must be JSON"),
        (b'{"sender": "a", "message": "\xff\xfe"}', "UTF-8"),
        (b'["sender", "message"]', "JSON object"),
        (b'{"message": "hi"}', '"sender"'),
        (b'{"sender": "", "message": "hi"}', '"sender"'),
        (b'{"sender": 42, "message": "hi"}', '"sender"'),
        (b'{"sender": "a\\u0000b", "message": "hi"}', '"sender"'),
        (json.dumps({"sender": "x" * 129, "message": "hi"}).encode(), '"sender"'),
        (b'{"sender": "a"}', '"message"'),
        (b'{"sender": "a", "message": ["hi"]}', '"message"'),
        (b'{"sender": "a", "message": null}', '"message"'),
        (b'{"sender": "a", "message": "hi", "metadata": "x"}', '"metadata"'),
        (b'{"sender": "a", "message": "hi", "input_channel": {"x": 1}}', '"input_channel"'),
    ],
)
def test_malformed_requests_are_named(body: bytes, complaint: str) -> None:
    assert complaint in (request_error(body) or "")


@pytest.mark.parametrize("message", ["hi", "", "   ", "<script>alert(1)</script>", "'; DROP TABLE events; --"])
def test_odd_but_valid_text_is_a_message(message: str) -> None:
    assert request_error(json.dumps({"sender": "parent-1", "message": message}).encode()) is None


def test_origins_default_to_the_demo_page_and_follow_the_environment() -> None:
    assert allowed_origins({}) == {"http://localhost:8080"}
    assert allowed_origins({"DEMO_PORT": "9090"}) == {"http://localhost:9090"}
    configured = allowed_origins({"ALLOWED_ORIGINS": "https://www.rch.org.au/, https://partner.example"})
    assert configured == {"https://www.rch.org.au", "https://partner.example"}
    assert origin_allowed("https://www.rch.org.au", configured)
    assert not origin_allowed("https://evil.example", configured)
    assert origin_allowed(None, configured)  # not a browser: curl, a messaging platform
    assert origin_allowed("https://anyone.example", allowed_origins({"ALLOWED_ORIGINS": "*"}))


@pytest.mark.parametrize(
    "text",
    [
        "我的孩子发烧了",
        "ابني مريض جدا",
        "con tôi bị sốt cao",
        "mi hijo tiene fiebre y vomita",
        "mon fils a de la fièvre",
        "mein Sohn hat Fieber und ist nicht wach",
        "Ang anak ko ay may lagnat",
        "ο γιος μου είναι άρρωστος",
    ],
)
def test_other_languages_are_recognised(text: str) -> None:
    assert reading(text) == OTHER_LANGUAGE


@pytest.mark.parametrize("text", ["😀😀👍", "???", "...", "🙏"])
def test_text_without_words_is_unreadable(text: str) -> None:
    assert reading(text) == "nlu_fallback"


def english_examples() -> list[str]:
    """Every English message the project trains and tests on."""
    texts = []
    for path in [*all_nlu_data(), *(ROOT / "tests" / "nlu").glob("*.yml")]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data.get("nlu") or []:
            if item.get("intent") != OTHER_LANGUAGE:
                texts += [line[2:] for line in item.get("examples", "").splitlines() if line.startswith("- ")]
        texts += [item["text"] for item in data.get("messages") or [] if item.get("intent") != OTHER_LANGUAGE]
    return texts


def test_no_english_example_is_taken_for_another_language() -> None:
    examples = english_examples()
    assert len(examples) > 1000
    assert [text for text in examples if reading(text)] == []
    for text in ["Can he die from withdrawal?", "ha ha thanks", "my son Zoë loves the café", "can Les swim"]:
        assert reading(text) is None, text
