"""The review record each text carries, and the fingerprint that ties an approval to the text approved.

A record in answers.yml says who approved a text and until when; on its own it
would stay true however the text was edited afterwards. The fingerprint (a hash
of exactly what the reviewer read: the words and the sections cited) is kept in
content/approvals.lock when the text is approved, so any later edit shows as a
different fingerprint, and the text is not served until someone approves it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, List, Mapping

REVIEW_FIELDS = ("approved_by", "approved_on", "review_by")


@dataclass(frozen=True)
class Review:
    approved_by: str
    approved_on: dt.date
    review_by: dt.date


def plain(text: str) -> str:
    """Text as a parent reads it: re-flowing a YAML paragraph changes no fingerprint."""
    return " ".join(str(text).split())


def fingerprint(fields: Mapping[str, Any]) -> str:
    """A stable hash of `fields`: the same words and sources always give the same fingerprint."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_review(raw: Any, where: str, problems: List[str]) -> Review | None:
    """The `review:` record of a text; None when there is none (never approved)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != set(REVIEW_FIELDS):
        problems.append(f"{where}: review needs exactly {', '.join(REVIEW_FIELDS)}")
        return None
    approved_by = plain(raw["approved_by"] or "")
    approved_on, review_by = raw["approved_on"], raw["review_by"]
    if not approved_by:
        problems.append(f"{where}: review has no approved_by")
    if not isinstance(approved_on, dt.date) or not isinstance(review_by, dt.date):
        problems.append(f"{where}: review dates must be written YYYY-MM-DD")
        return None
    if review_by <= approved_on:
        problems.append(f"{where}: review_by {review_by} is not after approved_on {approved_on}")
    return Review(approved_by=approved_by, approved_on=approved_on, review_by=review_by)
