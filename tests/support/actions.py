"""Running a custom action hermetically: a rasa-sdk `Tracker` in, a `CollectingDispatcher`'s messages out."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


def tracker_for(
    intent: str, ranking: List[Dict[str, Any]] | None = None, entities: List[Dict[str, Any]] | None = None
) -> Tracker:
    latest = {
        "text": "a parent's message",
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
        "entities": entities or [],
    }
    return Tracker("parent", {}, latest, [], False, None, {}, "action_listen")


def run(action: Action, tracker: Tracker) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    assert events == []
    return dispatcher.messages
