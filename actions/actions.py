"""Custom actions: each sends vetted text from content/, never composed text.

Rules in data/rules.yml route every intent to one of these. The urgent reply
itself is a domain response (utter_urgent / utter_emergency) so that it reaches
the parent even when this server is down; action_urgent_followup only adds the
fact-sheet answer that helps in that situation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any, Collection, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import SOMETHING_ELSE, answer_message, reply_message, topic_buttons
from content_library import signoff
from content_library.content import RED_FLAGS, Content, load_content

logger = logging.getLogger(__name__)

# Set in the Rasa server's NLU pipeline (declared in domain.yml): by urgency.detector.UrgencyDetector, which
# red flag matched, or which one was told as past and over; by nlu.intent_classifier.IntentClassifier, the
# answer to a message's other question.
RED_FLAG_ENTITY = "red_flag"
PAST_SIGN_ENTITY = "past_sign"
SECOND_QUESTION_ENTITY = "second_question"
IF_HAPPENING_NOW = "if_happening_now"
# How many "Did you mean ...?" candidates to offer, and the least confidence
# worth offering: below it a candidate is noise, not a near miss.
MAX_CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.1


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def entity_values(tracker: Tracker, entity: str) -> List[str]:
    """The values of one entity in the parent's latest message, in order, each once."""
    found = (item.get("value") for item in tracker.latest_message.get("entities") or [] if item.get("entity") == entity)
    return list(dict.fromkeys(value for value in found if value))


def clarify_candidates(ranking: List[Dict[str, Any]], answer_ids: Collection[str]) -> List[str]:
    """The answers "Did you mean ...?" offers: the likeliest fact-sheet answers worth a button."""
    return [
        item["name"]
        for item in ranking
        if item.get("name") in answer_ids and item.get("confidence", 0.0) >= MIN_CANDIDATE_CONFIDENCE
    ][:MAX_CANDIDATES]


@dataclass(frozen=True)
class Served:
    """The content as written, and the part of it that is approved: the only part a parent is sent."""

    written: Content
    approved: Content
    signoff: signoff.SignOff

    def log_withheld(self, item_id: str) -> None:
        logger.warning(
            "Not serving %r: %s. Until it is approved again, parents asking for it get the %r reply. "
            'Review it, then: make approve ANSWER=%s REVIEWER="<who checked it>"',
            item_id,
            self.signoff.statuses.get(item_id, signoff.Status.NOT_APPROVED).value,
            signoff.WITHHELD,
            item_id,
        )

    def withheld(self, dispatcher: CollectingDispatcher, item_id: str) -> None:
        """The honest "can't answer right now" instead of a text nobody approved as it stands."""
        self.log_withheld(item_id)
        message = reply_message(self.approved, self.approved.replies[signoff.WITHHELD])
        message["json_message"]["withheld"] = item_id
        dispatcher.utter_message(**message)

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        reply_id: str,
        buttons: List[Dict[str, str]] | None = None,
        custom: Dict[str, Any] | None = None,
    ) -> None:
        """Send the reply `reply_id` if it is approved, with any extra `custom` metadata; else the withheld one."""
        if reply_id not in self.approved.replies:
            self.withheld(dispatcher, reply_id)
            return
        message = reply_message(self.approved, self.approved.replies[reply_id], buttons=buttons)
        message["json_message"].update(custom or {})
        dispatcher.utter_message(**message)


def serve(content: Content, lock: Dict[str, str]) -> Served:
    """What may be served of `content`; raises SignOffError if a text the assistant falls back on is not approved."""
    checked = signoff.check(content, lock)
    checked.require()
    for item_id, state in checked.not_approved().items():
        if item_id == RED_FLAGS:  # not served from here: the Rasa server uses them, and says so (connectors/guard.py)
            continue
        logger.warning("Content %r is %s%s.", item_id, state.value, "" if state.servable else ": it will not be served")
    return Served(written=content, approved=checked.approved_view(content), signoff=checked)


@cache
def served() -> Served:
    """The content and its sign-off, read once per process."""
    return serve(load_content(), signoff.read_lock())


class ActionRespond(Action):
    """Answers a fact-sheet question, or gives the reply that belongs to the intent."""

    def name(self) -> str:
        return "action_respond"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        content = served()
        intent = latest_intent(tracker)
        if intent in content.approved.answers:
            also = entity_values(tracker, SECOND_QUESTION_ENTITY)
            message = answer_message(content.approved, content.approved.answers[intent], also[0] if also else None)
            dispatcher.utter_message(**message)
        elif content.written.has_topic(intent):
            content.reply(dispatcher, intent)
        else:
            content.reply(dispatcher, "fallback")
        if entity_values(tracker, PAST_SIGN_ENTITY):
            # A warning sign told as past and over: after the answer, what to do if it is happening now.
            content.reply(dispatcher, IF_HAPPENING_NOW)
        return []


class ActionClarify(Action):
    """Asks "Did you mean ...?" when the model is unsure, instead of guessing."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        content = served()
        candidates = clarify_candidates(tracker.latest_message.get("intent_ranking") or [], content.approved.answers)
        if not candidates:
            content.reply(dispatcher, "fallback")
        else:
            buttons = [*topic_buttons(content.approved, candidates), SOMETHING_ELSE]
            content.reply(dispatcher, "clarify", buttons=buttons, custom={"candidates": candidates})
        return []


class ActionUrgentFollowup(Action):
    """After the urgent reply, adds the text that helps: a fact-sheet answer (e.g. withdrawal), or a reply."""

    def name(self) -> str:
        return "action_urgent_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        content = served()
        followups: List[str] = []
        for entity in tracker.latest_message.get("entities") or []:
            followup = entity.get("followup")
            if entity.get("entity") == RED_FLAG_ENTITY and followup and followup not in followups:
                followups.append(followup)
        for text_id in followups:
            if text_id in content.approved.answers:
                dispatcher.utter_message(**answer_message(content.approved, content.approved.answers[text_id]))
            elif text_id in content.approved.replies:  # e.g. what the assistant can do, after a bare cry for help
                content.reply(dispatcher, text_id)
            else:  # the parent already has the number; only the log needs to know
                content.log_withheld(text_id)
        return []


# Read and checked once, when the action server imports this module, rather than on a parent's first
# question: every answer then costs a dictionary look-up, and a content file with a problem, or a text
# it cannot run without that is not approved, stops the server at start with the problem named, instead
# of failing parents' questions one by one.
served()
