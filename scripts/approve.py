"""Record that a reviewer approved texts as they stand now (make approve ANSWER=id REVIEWER="...").

For each id (an answer, a reply, `contacts` or `red_flags`) it writes the review
record into the content file, next to the text, and the text's fingerprint into
content/approvals.lock. Both changes go into the same commit as the text, so the
history shows who approved which words, and when.

The review record is written by editing its lines, not by re-writing the YAML,
so the comments and layout a clinician reads stay as they are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import List, Sequence

from content_library.content import RED_FLAGS, RED_FLAGS_FILE, ContentError, read_content, read_yaml
from content_library.review import Review
from content_library.signoff import CONTACTS, items, read_lock, write_lock
from paths import content_dir

REVIEW_PERIOD_DAYS = 365
ALL = "all"


class ApprovalError(ValueError):
    """What was asked can't be recorded; the message says why."""


def indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def review_lines(review: Review, depth: int) -> List[str]:
    pad = " " * depth
    return [
        f"{pad}review:\n",
        f"{pad}  approved_by: {json.dumps(review.approved_by, ensure_ascii=False)}\n",
        f"{pad}  approved_on: {review.approved_on.isoformat()}\n",
        f"{pad}  review_by: {review.review_by.isoformat()}\n",
    ]


def _block_end(lines: Sequence[str], start: int, depth: int) -> int:
    """The index after the block that starts at `start`, before the blank lines that separate it from the next."""
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or indent(lines[end]) > depth):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def set_review(text: str, section: str | None, item_id: str, review: Review) -> str:
    """`text` with the item's review record replaced or added.

    `section` is `answers` or `replies` in answers.yml (the entry is `  <id>:` under it); None
    puts the record at the top level of the file (contacts.yml, red_flags.yml: one item per file).
    """
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if section is None:
        begin, end, depth = 0, len(lines), 0
    else:
        try:
            heading = lines.index(f"{section}:\n")
            entry = lines.index(f"  {item_id}:\n", heading)
        except ValueError:
            raise ApprovalError(f"no entry {item_id!r} under {section}:") from None
        begin, end, depth = entry + 1, _block_end(lines, entry, 2), 4
    for index in range(begin, end):
        if indent(lines[index]) == depth and lines[index].strip().startswith("review:"):  # a comment after it too
            removed = _block_end(lines, index, depth) - index
            del lines[index : index + removed]
            end -= removed
            break
    lines[end:end] = review_lines(review, depth)
    return "".join(lines)


def approve(
    ids: Sequence[str], reviewer: str, on: dt.date, review_by: dt.date, directory: Path | None = None
) -> List[str]:
    """Record the approvals; returns the ids approved. Nothing is written if anything is wrong."""
    directory = directory or content_dir()
    reviewer = " ".join(reviewer.split())
    if not reviewer:
        raise ApprovalError('say who reviewed the text: REVIEWER="name or role"')
    if review_by <= on:
        raise ApprovalError(f"the review-by date {review_by} must be after the approval date {on}")
    answers_file = directory / "answers.yml"

    def load(where: Path) -> List:
        try:
            return items(read_content(where))
        except ContentError as error:
            raise ApprovalError(f"fix the content first: {error}") from None

    known = {item.id: item for item in load(directory)}
    wanted = list(known) if list(ids) == [ALL] else list(dict.fromkeys(ids))
    unknown = [item_id for item_id in wanted if item_id not in known]
    if unknown or not wanted:
        raise ApprovalError(
            f"unknown id(s) {', '.join(unknown) or '(none given)'}; ids are: {', '.join(known)}, or {ALL}"
        )

    review = Review(approved_by=reviewer, approved_on=on, review_by=review_by)
    # The file each record goes into, and where in it: the contacts and the red flags have one record per file.
    whole_files = {CONTACTS: directory / "contacts.yml", RED_FLAGS: directory / RED_FLAGS_FILE}
    texts = {path: path.read_text(encoding="utf-8") for path in (answers_file, *whole_files.values())}
    replies = read_yaml(answers_file)["replies"]
    for item_id in wanted:
        if item_id in whole_files:
            texts[whole_files[item_id]] = set_review(texts[whole_files[item_id]], None, item_id, review)
        else:
            section = "replies" if item_id in replies else "answers"
            texts[answers_file] = set_review(texts[answers_file], section, item_id, review)
    # Check the edited files in a scratch copy first: a record that landed in the wrong place must
    # never reach content/, where it would stop the servers.
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(shutil.copytree(directory, Path(scratch) / "content"))
        for path, text in texts.items():
            (trial / path.name).write_text(text, encoding="utf-8")
        approved = {item.id: item for item in load(trial)}
    lock = {item_id: value for item_id, value in read_lock(directory).items() if item_id in known}  # none deleted
    for item_id in wanted:
        if approved[item_id].review != review:
            raise ApprovalError(f"could not write the review record of {item_id}: edit its entry by hand")
        lock[item_id] = approved[item_id].fingerprint
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
    write_lock(lock, directory)
    return wanted


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answer", required=True, help=f"the id(s) approved, separated by commas or spaces, or {ALL}")
    parser.add_argument("--reviewer", required=True, help="who checked the text against its source: a name or role")
    parser.add_argument(
        "--review-by", type=dt.date.fromisoformat, help=f"YYYY-MM-DD (default: in {REVIEW_PERIOD_DAYS} days)"
    )
    parser.add_argument("--content", type=Path, help="the content directory (default: content/)")
    args = parser.parse_args(argv)
    today = dt.date.today()
    review_by = args.review_by or today + dt.timedelta(days=REVIEW_PERIOD_DAYS)
    ids = [part for part in args.answer.replace(",", " ").split() if part]
    try:
        approved = approve(ids, args.reviewer, today, review_by, args.content)
    except ApprovalError as error:
        print(f"approve: {error}", file=sys.stderr)
        return 2
    for item_id in approved:
        print(f"Approved {item_id}: by {' '.join(args.reviewer.split())} on {today}, review by {review_by}.")
    print("Commit content/ (the texts, their review records and approvals.lock) together.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
