"""Clinical sign-off: only texts approved as they stand reach a parent, and no unreviewed edit ships."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest

from actions import actions
from content_library.content import ContentError, load_content, read_content
from content_library.signoff import SignOffError, Status, check, items, read_lock, red_flags_problem
from paths import CONTENT_DIR
from scripts.approve import ApprovalError, approve
from scripts.content_report import main as content_report
from tests.support.actions import run, tracker_for
from tests.support.files import edit

REVIEWER = "Dr Test, consultant (test fixture)"
TODAY = dt.date(2026, 11, 21)


@pytest.mark.parametrize("item_id", [item.id for item in items(load_content(CONTENT_DIR))])
def test_every_text_is_approved_as_it_stands_and_within_its_review_date(item_id: str) -> None:
    item = next(item for item in items(load_content(CONTENT_DIR)) if item.id == item_id)
    state = check(load_content(CONTENT_DIR), read_lock(CONTENT_DIR)).statuses[item_id]
    fix = f'have it checked against its source, then: make approve ANSWER={item_id} REVIEWER="<who checked it>"'
    review = item.review
    why = {
        Status.NOT_APPROVED: "it has no approval on record",
        Status.CHANGED: f"its text, title or sources changed after {review.approved_by if review else ''} approved it",
        Status.OVERDUE: f"its review-by date, {review.review_by if review else ''}, has passed",
    }
    assert state is Status.APPROVED, f"{item_id} is {state.value}: {why.get(state)}; {fix}"


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A copy of content/ to edit: the repository's own files are never touched."""
    return Path(shutil.copytree(CONTENT_DIR, tmp_path / "content"))


def statuses(directory: Path, today: dt.date = TODAY) -> dict:
    return dict(check(read_content(directory), read_lock(directory), today).statuses)


def test_an_edited_answer_is_changed_since_approval_and_nothing_else_is(content_copy: Path) -> None:
    edit(content_copy / "answers.yml", "says every 4 to 12 weeks", "says every 4 to 10 weeks")
    changed = {item_id: state for item_id, state in statuses(content_copy).items() if state is not Status.APPROVED}
    assert changed == {"pump_refill": Status.CHANGED}


def test_a_changed_section_or_a_new_edition_of_a_sheet_needs_approval_again(content_copy: Path) -> None:
    edit(content_copy / "sources.yml", "date: 26 March 2019", "date: 1 May 2024")
    after = statuses(content_copy)
    derbyshire = {a.id for a in load_content(content_copy).answers.values() if "Derbyshire" in a.source_line}
    assert {item_id for item_id, state in after.items() if state is Status.CHANGED} == derbyshire
    assert after["pronunciation"] is Status.APPROVED  # cites only the RCH sheet


def test_reflowing_a_paragraph_is_not_a_change(content_copy: Path) -> None:
    edit(
        content_copy / "answers.yml",
        "Derbyshire Healthcare NHS says every 4 to 12 weeks,",
        "Derbyshire Healthcare NHS says\n      every 4 to 12 weeks,",
    )
    assert statuses(content_copy)["pump_refill"] is Status.APPROVED


def test_a_text_past_its_review_by_date_is_overdue_but_still_served() -> None:
    review_by = load_content(CONTENT_DIR).answers["pump_refill"].review.review_by
    state = statuses(CONTENT_DIR, today=review_by + dt.timedelta(days=1))["pump_refill"]
    assert state is Status.OVERDUE and state.servable
    assert statuses(CONTENT_DIR, today=review_by)["pump_refill"] is Status.APPROVED


def test_approve_records_who_when_and_the_fingerprint_and_keeps_the_files_comments(content_copy: Path) -> None:
    answers = content_copy / "answers.yml"
    edit(answers, "says every 4 to 12 weeks", "says every 4 to 10 weeks")
    before = answers.read_text(encoding="utf-8").splitlines()
    # A day after the recorded approval, so that every line of the record changes.
    on = read_content(content_copy).answers["pump_refill"].review.approved_on + dt.timedelta(days=1)
    approve(["pump_refill"], REVIEWER, on, on + dt.timedelta(days=180), content_copy)
    after = answers.read_text(encoding="utf-8").splitlines()
    assert statuses(content_copy, today=on)["pump_refill"] is Status.APPROVED
    review = read_content(content_copy).answers["pump_refill"].review
    assert (review.approved_by, review.approved_on, review.review_by) == (REVIEWER, on, on + dt.timedelta(days=180))
    changed = [line for line in after if line not in before]
    assert len(changed) == 3 and REVIEWER in changed[0]  # the record only; comments and other entries as they were
    assert len(after) == len(before)


def test_approve_replaces_a_hand_written_review_record_with_a_comment_after_it(content_copy: Path) -> None:
    answers = content_copy / "answers.yml"
    text = answers.read_text(encoding="utf-8")  # baclofen_what's record is the first in the file
    answers.write_text(text.replace("    review:\n", "    review:  # checked by phone\n", 1), encoding="utf-8")
    approve(["baclofen_what"], REVIEWER, TODAY, TODAY + dt.timedelta(days=30), content_copy)
    assert read_content(content_copy).answers["baclofen_what"].review.approved_by == REVIEWER
    assert "# checked by phone" not in answers.read_text(encoding="utf-8")


@pytest.mark.parametrize("reserved", ["contacts", "red_flags"])
def test_no_answer_or_reply_may_take_a_sign_off_record_s_id(content_copy: Path, reserved: str) -> None:
    edit(content_copy / "answers.yml", "  thank:\n", f"  {reserved}:\n")
    with pytest.raises(ContentError, match=f"reply {reserved}: the id is reserved for a sign-off record"):
        read_content(content_copy)


def test_approving_the_contacts_writes_their_record_in_contacts_yml(content_copy: Path) -> None:
    edit(content_copy / "contacts.yml", "hospital_phone: (03) 9345 5522", "hospital_phone: (03) 9345 5523")
    assert statuses(content_copy)["contacts"] is Status.CHANGED
    approve(["contacts"], REVIEWER, TODAY, TODAY + dt.timedelta(days=30), content_copy)
    assert statuses(content_copy)["contacts"] is Status.APPROVED
    assert read_content(content_copy).contacts_review.approved_by == REVIEWER


def test_a_new_red_flag_phrase_needs_approval_and_the_server_says_so_while_still_using_it(content_copy: Path) -> None:
    edit(content_copy / "red_flags.yml", "      - empty pump\n", "      - empty pump\n      - pump * flat\n")
    changed = {item_id: state for item_id, state in statuses(content_copy).items() if state is not Status.APPROVED}
    assert changed == {"red_flags": Status.CHANGED}
    problem = red_flags_problem(read_content(content_copy), read_lock(content_copy))
    assert problem and "changed since approval" in problem and "make approve ANSWER=red_flags" in problem
    assert "still used" in problem


def test_a_comment_in_the_red_flag_file_is_not_a_change(content_copy: Path) -> None:
    edit(content_copy / "red_flags.yml", "      - empty pump\n", "      - empty pump  # as parents say it\n")
    assert statuses(content_copy)["red_flags"] is Status.APPROVED
    assert red_flags_problem(read_content(content_copy), read_lock(content_copy)) is None


def test_approving_the_red_flags_writes_their_record_in_red_flags_yml(content_copy: Path) -> None:
    edit(content_copy / "red_flags.yml", "      - empty pump\n", "      - empty pump\n      - pump * flat\n")
    approve(["red_flags"], REVIEWER, TODAY, TODAY + dt.timedelta(days=30), content_copy)
    assert statuses(content_copy)["red_flags"] is Status.APPROVED
    assert read_content(content_copy).red_flags.review.approved_by == REVIEWER
    assert "# Red-flag terms" in (content_copy / "red_flags.yml").read_text(encoding="utf-8")  # comments kept


def test_a_red_flag_category_must_say_what_it_implements_or_why_it_is_an_addition(content_copy: Path) -> None:
    edit(content_copy / "red_flags.yml", "    addition: a parent asking for help urgently, whatever the sign\n", "")
    with pytest.raises(ContentError, match="red flag asking_for_help: say which sheet item"):
        read_content(content_copy)


@pytest.mark.parametrize(
    ("ids", "reviewer", "message"),
    [
        (["pump_refil"], REVIEWER, "unknown id"),
        (["pump_refill"], "  ", "say who reviewed"),
        ([], REVIEWER, "none given"),
    ],
)
def test_approve_refuses_what_it_cannot_record_and_writes_nothing(
    content_copy: Path, ids: list, reviewer: str, message: str
) -> None:
    before = {path.name: path.read_text(encoding="utf-8") for path in content_copy.iterdir()}
    with pytest.raises(ApprovalError, match=message):
        approve(ids, reviewer, TODAY, TODAY + dt.timedelta(days=30), content_copy)
    assert {path.name: path.read_text(encoding="utf-8") for path in content_copy.iterdir()} == before


def serve_from(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the actions serve `directory`'s content and lock, as the action server would at start."""
    served = actions.serve(read_content(directory), read_lock(directory))
    monkeypatch.setattr(actions, "served", lambda: served)


def test_an_edited_answer_is_withheld_with_the_number_and_the_log_names_it(
    content_copy: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    edit(content_copy / "answers.yml", "says every 4 to 12 weeks", "says every 4 to 10 weeks")
    serve_from(content_copy, monkeypatch)
    with caplog.at_level(logging.WARNING, logger="actions.actions"):
        [message] = run(actions.ActionRespond(), tracker_for("pump_refill"))
    assert message["custom"] == {"kind": "withheld", "answer_id": "withheld", "withheld": "pump_refill"}
    assert "can't answer that right now" in message["text"] and "(03) 9345 5522" in message["text"]
    assert "4 to 10 weeks" not in message["text"]
    assert any(
        "pump_refill" in record.getMessage() and "changed since approval" in record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING
    )
    # Nor is it offered as a related topic, or as a "Did you mean" candidate.
    [related] = run(actions.ActionRespond(), tracker_for("pump_how_it_works"))
    assert "/pump_refill" not in [button["payload"] for button in related["buttons"]]
    ranking = [{"name": "pump_refill", "confidence": 0.45}, {"name": "pump_location", "confidence": 0.4}]
    [clarify] = run(actions.ActionClarify(), tracker_for("nlu_fallback", ranking))
    assert clarify["custom"]["candidates"] == ["pump_location"]


@pytest.mark.parametrize(
    ("file", "old", "new", "named"),
    [
        (
            "answers.yml",
            "Call {emergency_number} now for an ambulance",
            "Call {emergency_number} for an ambulance",
            "emergency",
        ),
        ("contacts.yml", "hospital_phone: (03) 9345 5522", "hospital_phone: (03) 9345 5523", "contacts"),
        ("answers.yml", "Your message was long, so I only read", "Your message was long: I only read", "shortened"),
    ],
)
def test_the_actions_will_not_start_without_the_texts_they_fall_back_on_approved(
    content_copy: Path, file: str, old: str, new: str, named: str
) -> None:
    edit(content_copy / file, old, new)
    with pytest.raises(SignOffError, match=rf"{named} \(changed since approval\).*make approve"):
        actions.serve(read_content(content_copy), read_lock(content_copy))


def test_the_content_report_lists_every_text_and_writes_a_printable_page(
    content_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    edit(content_copy / "answers.yml", "says every 4 to 12 weeks", "says every 4 to <b>10</b> weeks")
    monkeypatch.setenv("ITB_CONTENT_DIR", str(content_copy))
    page = tmp_path / "report.html"
    assert content_report(["--out", str(page)]) == 0
    printed = capsys.readouterr().out
    rows = {line.split()[0]: line for line in printed.splitlines()[1:] if line.strip()}
    for item in items(load_content(content_copy)):
        assert item.id in rows
    assert rows["pump_refill"].endswith("changed since approval")
    assert rows["pronunciation"].endswith("approved") and "RCH Kids Health Info" in rows["pronunciation"]
    html = page.read_text(encoding="utf-8")
    assert "4 to &lt;b&gt;10&lt;/b&gt; weeks" in html and "<b>10</b>" not in html
    assert html.count("<tr>") == len(items(load_content(content_copy))) + 1
