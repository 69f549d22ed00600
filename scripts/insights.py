"""Write the report of what parents ask that the assistant can't answer (make insights).

It reads the conversations from the database endpoints.yml and TRACKER_STORE_URL
name, as `rasa run` does, and writes report.md, report.html and PNG charts to
--out (default results/insights/), readable by the user running it only: the
report quotes parents' words. It prints only counts and where the report is:
never a sender id (on SMS, a parent's phone number) or what was said.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import List

from paths import all_nlu_data

MARKDOWN, HTML = "report.md", "report.html"


class OutputError(ValueError):
    """--out can't hold the report; the message says why."""


def parse_since(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise OutputError(f"--since must be a day as YYYY-MM-DD (e.g. 2026-01-31); got {text!r}") from None


def prepare_out(out: Path, report_files: List[str]) -> None:
    """Make `out` a directory only its owner can open.

    A directory that already holds anything but an earlier report is refused rather than made
    private: `--out ~` or `--out /tmp` must not lock everyone else out of it.
    """
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"--out {out} is not a directory")
        others = [path for path in out.iterdir() if path.name not in report_files]
        if others:
            raise OutputError(
                f"--out {out} already holds {len(others)} other file(s); give the report a directory of its own"
            )
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(out, 0o700)


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path`, readable and writable by its owner only (also if it existed); never via a symlink."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)


def main(argv: List[str] | None = None) -> int:
    # As in scripts/purge_conversations.py: library deprecation warnings are no news to the reader.
    warnings.showwarning = lambda *args, **kwargs: None
    logging.getLogger("matplotlib").setLevel(logging.ERROR)  # it logs its style files' deprecation warnings
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # printed to stderr, not through `warnings`
    from content_library.content import ContentError, load_content
    from conversations import insights_report as rendering
    from conversations.insights import Insights, analyse, cluster_questions, read_conversations
    from conversations.store import (
        DatabaseError,
        TrackerStoreConfigError,
        configured_url,
        describe,
        on_database,
        sqlite_file,
    )
    from nlu.examples import nlu_examples

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", default="endpoints.yml", help="the endpoints file `rasa run` uses")
    parser.add_argument("--out", default="results/insights", help="the directory to write the report to")
    parser.add_argument("--since", help="only messages from this day on (YYYY-MM-DD, local time)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    try:
        since = parse_since(args.since) if args.since else None
        url = configured_url(args.endpoints)
        prepare_out(out, [MARKDOWN, HTML, *rendering.CHARTS])
        content = load_content()
    except (OutputError, TrackerStoreConfigError, ContentError, OSError) as error:
        print(f"insights: {error}", file=sys.stderr)
        return 2
    titles = {
        **{reply.id: reply.title for reply in content.replies.values() if reply.title},
        **{answer.id: answer.title for answer in content.answers.values()},
    }

    database_file = sqlite_file(url)
    if database_file and not database_file.exists():
        insights = Insights(since=since)  # nothing stored yet; connecting would create the file
    else:
        try:
            insights = on_database(url, lambda engine: analyse(read_conversations(engine), titles, since))
        except DatabaseError as error:
            print(f"insights: could not read {describe(url)}: {error}", file=sys.stderr)
            return 1

    # The training examples: what ordinary questions look like, for the clustering.
    background = [text for texts in nlu_examples(*all_nlu_data()).values() for text in texts]
    clusters = cluster_questions(insights.questions, background)
    tz_name = datetime.now().astimezone().tzname() or "local"
    blocks = rendering.report(insights, clusters, titles, tz_name, date.today())
    images = rendering.charts(insights)
    write_private(out / MARKDOWN, rendering.markdown(blocks).encode("utf-8"))
    write_private(out / HTML, rendering.html_page(blocks, images).encode("utf-8"))
    for name in rendering.CHARTS:
        if name in images:
            write_private(out / name, images[name])
        else:
            (out / name).unlink(missing_ok=True)  # an earlier report's chart would contradict this one

    messages = sum(insights.messages.values())
    print(
        f"Read {insights.conversations} conversation(s) with {messages} message(s) from parents from {describe(url)}: "
        f"{len(insights.questions)} unanswered question(s) in {len(clusters)} group(s). "
        f"Wrote {out / MARKDOWN}, {out / HTML} and {len(images)} chart(s)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
