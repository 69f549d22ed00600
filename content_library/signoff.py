"""Clinical sign-off: a text reaches a parent only as a reviewer approved it.

Every answer, every reply and the contact details are one sign-off item each.
An item is approved when it has a review record (in answers.yml or contacts.yml)
and its fingerprint is the one content/approvals.lock recorded when it was
approved. An edited item shows as "changed since approval" and is withheld
(the parent gets the `withheld` reply with the number to call) until someone
approves it again with `make approve`. An item past its review-by date is still
served, because its text is the approved one, but shows as overdue, and
`make test` fails on it: a date passing must not silence the assistant in the
middle of the night, while a release must not ship with it.

A few items are what the assistant says when it can say nothing else: the
urgent replies, the contact details in them, the withheld reply, the apologies
and the notes the channels and the widget add. Withholding those would leave a
worried parent with no number, so they are never withheld. Instead the action
server does not start, and the widget does not build, until they are approved.
The Rasa server starts anyway, with an error in its log: it sends the urgent
replies, which must never go unanswered.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Mapping

import yaml

from content_library.content import CONTACTS, RED_FLAGS, Content, cited, read_yaml
from content_library.review import Review
from paths import content_dir

LOCK_NAME = "approvals.lock"
WITHHELD = "withheld"
# Needed before anything starts (see the module docstring). `unavailable` and `shortened` are sent by the
# channels themselves (connectors/guard.py); `notice` and `unreachable` are baked into the web widget.
# `if_happening_now` follows an answer to a story of a sign that is over: it is the on-call number such a
# parent gets instead of the urgent reply, so it can no more be withheld than that reply can.
REQUIRED = (
    CONTACTS, "urgent", "emergency", WITHHELD, "unavailable", "shortened", "unreachable", "notice", "if_happening_now"
)


class Status(enum.Enum):
    APPROVED = "approved"
    CHANGED = "changed since approval"
    OVERDUE = "overdue"
    NOT_APPROVED = "not approved"

    @property
    def servable(self) -> bool:
        return self in (Status.APPROVED, Status.OVERDUE)


class SignOffError(RuntimeError):
    """A text the assistant cannot run without is not approved; the message names each and what to do."""


@dataclass(frozen=True)
class Item:
    """One thing a reviewer approves: an answer, a reply, the contact details, or the red-flag phrases."""

    id: str
    source: str
    text: str
    fingerprint: str
    review: Review | None


def items(content: Content) -> List[Item]:
    """Every sign-off item, in the order of the content files."""
    found = [
        Item(answer.id, cited(answer.citations), answer.text, answer.fingerprint, answer.review)
        for answer in content.answers.values()
    ]
    found += [Item(reply.id, "", reply.text, reply.fingerprint, reply.review) for reply in content.replies.values()]
    contacts_text = "; ".join(f"{key}: {value}" for key, value in content.contacts.items())
    contacts_source = cited((content.contacts_source,)) if content.contacts_source else ""
    found.append(Item(CONTACTS, contacts_source, contacts_text, content.contacts_fingerprint, content.contacts_review))
    alarms = content.red_flags
    alarms_source = cited((alarms.source,)) if alarms.source else ""
    found.append(Item(RED_FLAGS, alarms_source, alarms.as_text(), alarms.fingerprint, alarms.review))
    return found


def lock_path(directory: Path | None = None) -> Path:
    return (directory or content_dir()) / LOCK_NAME


def read_lock(directory: Path | None = None) -> Dict[str, str]:
    """Approved fingerprints by item id; none if there is no lock yet."""
    path = lock_path(directory)
    if not path.exists():
        return {}
    return {str(key): str(value) for key, value in (read_yaml(path).get("approved") or {}).items()}


LOCK_HEADER = """\
# The fingerprint (sha256) of each text as it was approved: its words, title and cited
# sections, before contact details are filled in. Written by `make approve`; do not edit
# by hand. A text whose fingerprint differs from this file is not served (content_library/signoff.py).
"""


def write_lock(lock: Mapping[str, str], directory: Path | None = None) -> None:
    body = yaml.safe_dump({"version": 1, "approved": dict(sorted(lock.items()))}, sort_keys=False, width=200)
    lock_path(directory).write_text(LOCK_HEADER + body, encoding="utf-8")


def status(item: Item, lock: Mapping[str, str], today: dt.date) -> Status:
    if item.review is None or item.id not in lock:
        return Status.NOT_APPROVED
    if lock[item.id] != item.fingerprint:
        return Status.CHANGED
    if item.review.review_by < today:
        return Status.OVERDUE
    return Status.APPROVED


@dataclass(frozen=True)
class SignOff:
    statuses: Mapping[str, Status]

    def servable(self, item_id: str) -> bool:
        return item_id in self.statuses and self.statuses[item_id].servable

    def not_approved(self) -> Dict[str, Status]:
        return {item_id: state for item_id, state in self.statuses.items() if state is not Status.APPROVED}

    def approved_view(self, content: Content) -> Content:
        """`content` with only what may be served, so buttons never offer a withheld topic."""
        return replace(
            content,
            answers={key: answer for key, answer in content.answers.items() if self.servable(key)},
            replies={key: reply for key, reply in content.replies.items() if self.servable(key)},
        )

    def require(self) -> None:
        """Stop here unless the texts the assistant cannot run without are approved."""
        missing = [f"{item_id} ({self.statuses[item_id].value})" for item_id in REQUIRED if not self.servable(item_id)]
        if missing:
            raise SignOffError(
                "These texts must be approved before the assistant can run, because it falls back on them: "
                + ", ".join(missing)
                + '. Review them, then run: make approve ANSWER=<id> REVIEWER="<who checked them>"'
            )


def check(content: Content, lock: Mapping[str, str], today: dt.date | None = None) -> SignOff:
    today = today or dt.date.today()
    return SignOff({item.id: status(item, lock, today) for item in items(content)})


def red_flags_problem(content: Content, lock: Mapping[str, str] | None = None) -> str | None:
    """Why the red-flag phrases are not signed off as they stand, if they are not.

    Never a reason to stop using them: a phrase nobody has approved yet still catches an urgent
    message, and an assistant that ignored them would miss it. So the Rasa server says so loudly,
    the content report shows it, and `make test` fails, but the phrases stay in use.
    """
    state = check(content, read_lock() if lock is None else lock).statuses[RED_FLAGS]
    if state is Status.APPROVED:
        return None
    return (
        f"The red-flag phrases (content/red_flags.yml) are {state.value}. They are still used, so urgent messages "
        f'are still caught. Review them, then run: make approve ANSWER={RED_FLAGS} REVIEWER="<who checked them>"'
    )


def require_fallbacks(content: Content) -> None:
    """For the processes that send only the fallback texts: the channels' notes, the widget's notice."""
    check(content, read_lock()).require()
