"""Every text the assistant can send, with its sign-off (make content-report).

Prints a table (id, source, approved by, approved on, review by, status) and
writes the same, with each text in full as a parent reads it, as an HTML page a
clinician can read and print when reviewing: results/content-report.html.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import sys
from collections import Counter
from pathlib import Path
from typing import List, Sequence, Tuple

from content_library.content import ContentError, load_content
from content_library.signoff import Item, Status, check, items, read_lock

DEFAULT_OUT = Path("results") / "content-report.html"
COLUMNS = ("id", "source", "approved by", "approved on", "review by", "status")
SOURCE_WIDTH = 48  # the terminal table shortens sources; the page has them whole

Row = Tuple[Item, Status]


def cells(item: Item, state: Status) -> List[str]:
    review = item.review
    return [
        item.id,
        item.source or "(none: not a fact-sheet answer)",
        review.approved_by if review else "",
        review.approved_on.isoformat() if review else "",
        review.review_by.isoformat() if review else "",
        state.value,
    ]


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: Sequence[Row]) -> str:
    lines = [list(COLUMNS)] + [cells(item, state) for item, state in rows]
    for line in lines[1:]:
        line[1] = shorten(line[1], SOURCE_WIDTH)
    widths = [max(len(line[column]) for line in lines) for column in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def summary(rows: Sequence[Row]) -> str:
    counts = Counter(state for _, state in rows)
    return ", ".join(f"{counts[state]} {state.value}" for state in Status if counts[state])


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #111; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #eee; }
.text { max-width: 40em; white-space: pre-line; }
.status-approved { color: #05612a; }
.status-changed, .status-overdue, .status-not { color: #a00; font-weight: bold; }
@media print { body { margin: 0; font-size: 10pt; } tr { page-break-inside: avoid; } }
"""


def page(rows: Sequence[Row], today: dt.date) -> str:
    header = "".join(f"<th>{html.escape(name)}</th>" for name in (*COLUMNS, "text as a parent reads it"))
    body = []
    for item, state in rows:
        values = "".join(f"<td>{html.escape(value)}</td>" for value in cells(item, state)[:-1])
        status_class = "status-" + state.value.split()[0]
        body.append(
            f'<tr>{values}<td class="{status_class}">{html.escape(state.value)}</td>'
            f'<td class="text">{html.escape(item.text)}</td></tr>'
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ITB assistant: content sign-off</title>
<style>{PAGE_STYLE}</style></head><body>
<h1>ITB parents' assistant: content sign-off</h1>
<p>Every text the assistant can send, on {today.isoformat()}: {html.escape(summary(rows))}.
Only approved and overdue texts are sent to parents. An answer or reply that is not is
replaced by the "withheld" reply; the texts the assistant falls back on (contacts, urgent
replies, apologies) stop the action server from starting instead. The red-flag phrases (<code>red_flags</code>)
decide which messages get the urgent reply: they are used even when not approved, and the Rasa server logs
an error until they are. Approve a text after checking it against its source:
<code>make approve ANSWER=&lt;id&gt; REVIEWER="&lt;name or role&gt;"</code>.</p>
<table><thead><tr>{header}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table></body></html>
"""


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the HTML page (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    today = dt.date.today()
    try:
        content = load_content()
    except ContentError as error:
        print(f"content-report: {error}", file=sys.stderr)
        return 2
    statuses = check(content, read_lock(), today).statuses
    rows = [(item, statuses[item.id]) for item in items(content)]
    print(table(rows))
    print(f"\n{summary(rows)}.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page(rows, today), encoding="utf-8")
    print(f"The same, with every text in full, for reading and printing: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
