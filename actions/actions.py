"""Custom actions: each sends vetted text from content/, never composed text.

Rules in data/rules.yml route every intent to one of these. The urgent reply
itself is a domain response (utter_urgent / utter_emergency) so that it reaches
the parent even when this server is down; action_urgent_followup only adds the
fact-sheet answer that helps in that situation.
"""

from __future__ import annotations

from typing import Any, Collection, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.content import load_content
from actions.messages import SOMETHING_ELSE, answer_message, reply_message, topic_buttons

# Set by urgency.detector.UrgencyDetector in the Rasa server (declared in domain.yml).
RED_FLAG_ENTITY = "red_flag"
# How many "Did you mean ...?" candidates to offer, and the least confidence
# worth offering: below it a candidate is noise, not a near miss.
MAX_CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.1


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def clarify_candidates(ranking: List[Dict[str, Any]], answer_ids: Collection[str]) -> List[str]:
    """The answers "Did you mean ...?" offers: the likeliest fact-sheet answers worth a button."""
    return [
        item["name"]
        for item in ranking
        if item.get("name") in answer_ids and item.get("confidence", 0.0) >= MIN_CANDIDATE_CONFIDENCE
    ][:MAX_CANDIDATES]


class ActionRespond(Action):
    """Answers a fact-sheet question, or gives the reply that belongs to the intent."""

    def name(self) -> str:
        return "action_respond"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        content = load_content()
        intent = latest_intent(tracker)
        if intent in content.answers:
            dispatcher.utter_message(**answer_message(content, content.answers[intent]))
        elif intent in content.replies:
            dispatcher.utter_message(**reply_message(content, content.replies[intent]))
        else:
            dispatcher.utter_message(**reply_message(content, content.replies["fallback"]))
        return []


class ActionClarify(Action):
    """Asks "Did you mean ...?" when the model is unsure, instead of guessing."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        content = load_content()
        candidates = clarify_candidates(tracker.latest_message.get("intent_ranking") or [], content.answers)
        if not candidates:
            dispatcher.utter_message(**reply_message(content, content.replies["fallback"]))
            return []
        buttons = [*topic_buttons(content, candidates), SOMETHING_ELSE]
        message = reply_message(content, content.replies["clarify"], buttons=buttons)
        message["json_message"]["candidates"] = candidates
        dispatcher.utter_message(**message)
        return []


class ActionUrgentFollowup(Action):
    """After the urgent reply, adds the fact-sheet answer that helps (e.g. withdrawal)."""

    def name(self) -> str:
        return "action_urgent_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        content = load_content()
        followups: List[str] = []
        for entity in tracker.latest_message.get("entities") or []:
            followup = entity.get("followup")
            if entity.get("entity") == RED_FLAG_ENTITY and followup in content.answers and followup not in followups:
                followups.append(followup)
        for answer_id in followups:
            dispatcher.utter_message(**answer_message(content, content.answers[answer_id]))
        return []


# Read and checked once, when the action server imports this module, rather than on a parent's first
# question: every answer then costs a dictionary look-up, and a content file with a problem stops the
# server at start with the problem named, instead of failing parents' questions one by one.
load_content()
