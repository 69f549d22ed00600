"""End to end: conversations held with the real servers, then `python -m scripts.insights` on their store.

Parents with SMS-style ids (phone numbers) and web-style ids ask a fact
question and rate it "didn't help", ask two wordings of a question the fact
sheets don't cover and one other, type gibberish and send an urgent message,
all over REST. The stack is stopped and the command reads the SQLite file the
Rasa server wrote (through the stack's endpoints.yml), then the same events
copied into PostgreSQL, and must write the same report from both, with no
sender id anywhere in what it writes or prints.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import URL

from content_library.content import Content
from conversations.insights import UNANSWERED_KINDS
from conversations.insights_report import CHARTS, md
from conversations.store import URL_VARIABLE
from harness.servers import server_env, start_stack
from paths import ROOT

pytestmark = pytest.mark.e2e

FACT = "how often does the pump need refilling?"
HOT_TUB = "can my son go in a hot tub with the pump"
HOT_TUB_AGAIN = "is it safe for my daughter to use a hot tub with her pump? ring me on 0412 345 678"
FLYING = "is it ok to fly on a plane with the pump"
GIBBERISH = "asdkjh qwe zzzz"
URGENT = "my son's pump is beeping and he is really floppy"
CONVERSATIONS = {
    "+61400000101": [FACT, "/feedback_unhelpful"],
    "parent-hot-tub-7f3a9c": [HOT_TUB],
    "+61400000102": [HOT_TUB_AGAIN],
    "parent-flying-2b8e41": [FLYING],
    "+61400000103": [GIBBERISH],
    "parent-urgent-5d0c77": [URGENT],
}
PRIVATE = [*CONVERSATIONS, "0412 345 678", "0412"]


@dataclass
class Generated:
    workdir: Path
    conversations_db: Path
    first_replies: Dict[str, Dict[str, Any]]  # message -> the first reply it got


@pytest.fixture(scope="module")
def generated(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    workdir = tmp_path_factory.mktemp("insights")
    stack = start_stack(workdir, model_path)
    first_replies = {}
    try:
        for sender, messages in CONVERSATIONS.items():
            for message in messages:
                first_replies[message] = stack.send(message, sender)[0]
    finally:
        stack.stop()
    assert stack.conversations_db and stack.conversations_db.is_file()
    return Generated(workdir, stack.conversations_db, first_replies)


def insights(out: Path, endpoints: Path, **env: str) -> subprocess.CompletedProcess:
    """The command as `make insights` runs it, in a separate process, on the given database."""
    inherited = {name: value for name, value in server_env().items() if name != URL_VARIABLE}
    return subprocess.run(
        [sys.executable, "-m", "scripts.insights", "--out", str(out), "--endpoints", str(endpoints)],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass
class Written:
    out: Path
    run: subprocess.CompletedProcess

    @property
    def markdown(self) -> str:
        return (self.out / "report.md").read_text(encoding="utf-8")

    def section(self, number: int) -> List[List[str]]:
        """The table rows of the report's section `number`, as cells."""
        text = self.markdown.split(f"## {number}. ")[1].split("\n## ")[0]
        rows = [line.strip("| ").split(" | ") for line in text.splitlines() if line.startswith("| ")]
        return rows[1:]  # below the header


@pytest.fixture(scope="module")
def from_sqlite(generated: Generated) -> Written:
    out = generated.workdir / "report"
    return Written(out, insights(out, generated.workdir / "endpoints.yml"))


def test_the_servers_gave_the_replies_the_report_is_about(generated: Generated) -> None:
    replies = generated.first_replies
    assert (replies[FACT]["custom"]["kind"], replies[FACT]["custom"]["answer_id"]) == ("answer", "pump_refill")
    assert replies["/feedback_unhelpful"]["custom"]["kind"] == "feedback"
    for question in (HOT_TUB, HOT_TUB_AGAIN, FLYING):
        assert replies[question]["custom"]["kind"] in UNANSWERED_KINDS, question
    assert replies[GIBBERISH]["custom"]["kind"] == "fallback"
    assert replies[URGENT]["custom"]["kind"] == "urgent"


def test_the_command_reports_counts_only_and_writes_private_files(from_sqlite: Written) -> None:
    assert from_sqlite.run.returncode == 0, from_sqlite.run.stderr
    assert "Read 6 conversation(s) with 7 message(s) from parents" in from_sqlite.run.stdout
    assert "4 unanswered question(s) in 3 group(s)" in from_sqlite.run.stdout
    assert sorted(path.name for path in from_sqlite.out.iterdir()) == sorted(["report.md", "report.html", *CHARTS])
    assert stat.S_IMODE(from_sqlite.out.stat().st_mode) == 0o700
    for path in from_sqlite.out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    for chart in CHARTS:
        assert (from_sqlite.out / chart).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_no_sender_id_or_phone_number_appears_in_anything_written_or_printed(from_sqlite: Written) -> None:
    printed = from_sqlite.run.stdout + from_sqlite.run.stderr
    for private in PRIVATE:
        assert private not in printed
        for path in from_sqlite.out.iterdir():
            assert private.encode() not in path.read_bytes(), (private, path.name)
    for question in (HOT_TUB, FLYING, GIBBERISH, URGENT):
        assert question not in printed


def test_the_unanswered_questions_are_grouped_by_wording(from_sqlite: Written) -> None:
    groups = {row[0]: row for row in from_sqlite.section(1)}
    # Group | Times asked | Not covered | Did you mean…? | Didn't understand | Key words | Examples
    assert len(groups) == 3
    hot_tub = groups["1"]
    assert hot_tub[1] == "2" and "tub" in hot_tub[5]
    masked = "is it safe for my daughter to use a hot tub with her pump? ring me on \\[number\\]"
    assert set(hot_tub[6].split(" · ")) == {f"“{HOT_TUB}”", f"“{masked}”"}
    singles = {row[6]: row for row in groups.values() if row[1] == "1"}
    assert set(singles) == {f"“{FLYING}”", f"“{GIBBERISH}”"}
    assert singles[f"“{GIBBERISH}”"][2:5] == ["0", "0", "1"]
    assert "/feedback_unhelpful" not in from_sqlite.markdown  # a button press is not a question


def test_the_unhelpful_rating_names_the_answer_and_the_question_before_it(
    from_sqlite: Written, content: Content
) -> None:
    assert from_sqlite.section(2) == [[md(content.answers["pump_refill"].title), "pump\\_refill", "1", "0"]]
    assert f"- “{FACT}”" in from_sqlite.markdown


def test_the_urgent_message_and_every_message_are_counted(from_sqlite: Written) -> None:
    assert from_sqlite.section(3)[-1] == ["Total", "1", "0"]
    assert ["REST (hospital tools)", "7", "100%"] in from_sqlite.section(4)


def test_the_html_page_is_self_contained_and_has_the_same_findings(from_sqlite: Written) -> None:
    page = (from_sqlite.out / "report.html").read_text(encoding="utf-8")
    assert "“is it safe for my daughter to use a hot tub with her pump? ring me on [number]”" in page
    assert page.count('<img src="data:image/png;base64,') == len(CHARTS)
    assert "http" not in page.replace("http-equiv", "")  # nothing to fetch


def test_the_same_conversations_in_postgresql_give_the_same_report(
    generated: Generated,
    from_sqlite: Written,
    postgres_url: URL,
) -> None:
    copy_events(URL.create("sqlite", database=str(generated.conversations_db)), postgres_url)
    out = generated.workdir / "report-postgresql"
    run = insights(out, generated.workdir / "endpoints.yml", **{URL_VARIABLE: postgres_url.render_as_string(False)})
    assert run.returncode == 0, run.stderr
    assert (out / "report.md").read_text(encoding="utf-8") == from_sqlite.markdown
    assert postgres_url.password not in run.stdout + run.stderr
    assert postgres_url.render_as_string(hide_password=True) in run.stdout


def copy_events(source: URL, target: URL) -> None:
    """Every stored event, as the Rasa server wrote it, into `target`'s events table (created here)."""
    table = SQLTrackerStore.SQLEvent.__table__
    reading, writing = sa.create_engine(source), sa.create_engine(target)
    try:
        table.create(writing, checkfirst=True)
        with reading.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(sa.select(table))]
        with writing.begin() as connection:
            connection.execute(table.insert(), rows)
    finally:
        reading.dispose()
        writing.dispose()
