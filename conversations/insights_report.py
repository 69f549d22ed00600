"""The insights report for the clinical content team: one document, rendered as Markdown, HTML and charts.

The report is built once as a list of blocks (headings, paragraphs, tables,
charts) and each renderer escapes every piece of text itself, so a parent's
message can never become markup, in either file. The HTML page is
self-contained (styles inline, charts as data: URIs, a policy that loads
nothing else), so it can be opened offline, printed, or attached to an email
inside the hospital without its pictures going missing.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Union

from conversations.insights import DISTANCE_THRESHOLD, UNANSWERED_KINDS, Cluster, Insights

TITLE = "What parents ask that the assistant can't answer"
KIND_NAMES = {"not_covered": "Not covered", "clarify": "Did you mean…?", "fallback": "Didn't understand"}
CHANNEL_NAMES = {
    "socketio": "Web chat",
    "rest": "REST (hospital tools)",
    "telegram": "Telegram",
    "twilio": "SMS / WhatsApp",
    "facebook": "Messenger",
    "slack": "Slack",
    "botframework": "Teams",
    "cmdline": "Terminal (rasa shell)",
}
MAX_GROUPS = 50  # question groups listed; the smallest beyond these are only counted
URGENT_CHART = "urgent_per_day.png"
DAILY_CHART = "messages_per_day.png"
CHANNEL_CHART = "messages_per_channel.png"
CHARTS = (URGENT_CHART, DAILY_CHART, CHANNEL_CHART)
COLOURS = {"urgent": "#ed8936", "emergency": "#9b2c2c"}  # orange and dark red, told apart in grey too


# --- The document --------------------------------------------------------------------------------------

Cell = Union[str, int, Tuple[str, ...]]  # a tuple is one line per item


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: Tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: Tuple[str, ...]
    rows: Tuple[Tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Chart:
    file: str
    alt: str


Block = Union[Heading, Paragraph, Bullets, Table, Chart]


def day_name(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def period(days: Sequence[date]) -> str:
    if days[0] == days[-1]:
        return f"on {day_name(days[0])}"
    return f"from {day_name(days[0])} to {day_name(days[-1])}"


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def report(
    insights: Insights, clusters: Sequence[Cluster], titles: Mapping[str, str], tz_name: str, today: date
) -> List[Block]:
    """The whole report. `titles` names answers by id; days are calendar days in `tz_name`."""
    days = insights.days
    blocks: List[Block] = [Heading(TITLE, 1)]
    if not days:
        if insights.since:
            nothing = f"No parent sent a message from {day_name(insights.since)} on"
        else:
            nothing = "There are no conversations yet"
        return [*blocks, Paragraph(f"Made on {day_name(today)}. {nothing}: nothing to report.")]
    blocks += [
        Paragraph(
            f"The ITB parents' assistant's conversations {period(days)}"
            + (f" (asked for: from {day_name(insights.since)} on)" if insights.since else "")
            + f". Days are in the {tz_name} time zone. Made on {day_name(today)}."
        ),
        Paragraph(
            "This report quotes parents' own words, with phone numbers, email addresses and links masked. "
            "Keep it within the clinical team, as you would a clinical record."
        ),
        *summary(insights, clusters),
        *unanswered_section(clusters),
        *ratings_section(insights, titles),
        *urgent_section(insights),
        *messages_section(insights),
        *withheld_section(insights, titles),
    ]
    return blocks


def summary(insights: Insights, clusters: Sequence[Cluster]) -> List[Block]:
    kinds = Counter(question.kind for question in insights.questions)
    total_messages = sum(insights.messages.values())
    helpful = sum(ratings.helpful for ratings in insights.ratings.values())
    unhelpful = sum(ratings.unhelpful for ratings in insights.ratings.values())
    urgent = Counter()
    for (_, level), count in insights.urgent.items():
        urgent[level] += count
    items = [
        f"{plural(insights.conversations, 'conversation')}, {plural(total_messages, 'message')} from parents, "
        f"including {plural(insights.buttons, 'button press', 'button presses')}.",
        f"{plural(len(insights.questions), 'question')} the assistant couldn't answer: "
        + ", ".join(f"{kinds[kind]} “{KIND_NAMES[kind]}”" for kind in UNANSWERED_KINDS)
        + f"; {plural(len(clusters), 'group')} of similar wording (section 1).",
        f"{plural(helpful + unhelpful, 'rating')} of answers: {unhelpful} “didn't help”, {helpful} “helped” "
        "(section 2).",
        f"{plural(urgent['urgent'], 'message')} got the urgent reply and {urgent['emergency']} the emergency reply "
        "(section 3).",
    ]
    if insights.withheld:
        items.append(
            f"{plural(sum(insights.withheld.values()), 'time')} a parent was told an answer is being reviewed "
            "(the last section)."
        )
    return [Heading("Summary"), Bullets(tuple(items))]


def unanswered_section(clusters: Sequence[Cluster]) -> List[Block]:
    blocks: List[Block] = [
        Heading("1. Questions the assistant could not answer"),
        Paragraph(
            "Messages whose first reply was one of: “Not covered” (a question the fact sheets don't answer), "
            "“Did you mean…?” (unsure which topic was meant, so it offered choices) or “Didn't understand” "
            "(it could not make sense of the message). Button presses are left out."
        ),
        Paragraph(
            "Similar wordings are grouped automatically, biggest group first. How: each message's words "
            "(without common ones such as “the” or “can”) are compared as single words, word pairs and "
            "3 to 5 letter pieces (so typos still match), weighted by TF-IDF so that words found in most "
            "questions about ITB, such as “pump”, count for little. Groups are then joined while their "
            "messages are, on average, at least "
            f"{1 - DISTANCE_THRESHOLD:.0%} alike (agglomerative clustering, average linkage, cosine distance "
            f"threshold {DISTANCE_THRESHOLD}). A group is a starting point: read its examples."
        ),
    ]
    if not clusters:
        return [*blocks, Paragraph("Every question got an answer.")]
    rows = tuple(
        (
            number,
            cluster.size,
            *(cluster.count(kind) for kind in UNANSWERED_KINDS),
            ", ".join(cluster.key_words),
            tuple(f"“{text}”" for text in cluster.examples()),
        )
        for number, cluster in enumerate(clusters[:MAX_GROUPS], start=1)
    )
    header = ("Group", "Times asked", *(KIND_NAMES[kind] for kind in UNANSWERED_KINDS), "Key words", "Examples")
    blocks.append(Table(header, rows))
    if len(clusters) > MAX_GROUPS:
        rest = clusters[MAX_GROUPS:]
        blocks.append(
            Paragraph(
                f"{plural(len(rest), 'smaller group')} ({plural(sum(c.size for c in rest), 'question')}) not listed."
            )
        )
    return blocks


def ratings_section(insights: Insights, titles: Mapping[str, str]) -> List[Block]:
    blocks: List[Block] = [
        Heading("2. Answers parents rated"),
        Paragraph(
            "After each answer parents can press “This helped” or “This didn't help” (or say so). A rating "
            "counts for the answer straight before it in that conversation."
        ),
    ]
    if insights.unattributed_ratings:
        blocks.append(
            Paragraph(
                f"{plural(insights.unattributed_ratings, 'rating')} did not follow an answer (a second press, "
                "or a rating of another reply) and are not counted."
            )
        )
    if not insights.ratings:
        return [*blocks, Paragraph("No answer has been rated yet.")]
    ordered = sorted(insights.ratings.items(), key=lambda item: (-item[1].unhelpful, item[1].helpful, item[0]))
    rows = tuple(
        (titles.get(answer_id, "(no longer in the content)"), answer_id, ratings.unhelpful, ratings.helpful)
        for answer_id, ratings in ordered
    )
    blocks.append(Table(("Answer", "Topic id", "Didn't help", "Helped"), rows))
    for answer_id, ratings in ordered:
        if ratings.unhelpful:
            asked = Counter(ratings.unhelpful_questions).most_common()
            blocks += [
                Heading(f"Asked before “{titles.get(answer_id, answer_id)}” was rated “didn't help”", 3),
                Bullets(tuple(text + (f" ({count} times)" if count > 1 else "") for text, count in asked)),
            ]
    return blocks


def urgent_section(insights: Insights) -> List[Block]:
    rows = tuple(
        (day_name(day), insights.urgent[(day, "urgent")], insights.urgent[(day, "emergency")]) for day in insights.days
    )
    totals = ("Total", sum(row[1] for row in rows), sum(row[2] for row in rows))
    return [
        Heading("3. Urgent and emergency messages per day"),
        Paragraph(
            "Messages that got the urgent reply (the hospital's on-call number) or the emergency reply "
            "(call 000 first), by the day they were sent."
        ),
        Table(("Day", "Urgent", "Emergency"), (*rows, totals)),
        Chart(URGENT_CHART, "Bar chart: urgent and emergency messages per day"),
    ]


def messages_section(insights: Insights) -> List[Block]:
    per_channel = channel_totals(insights)
    channels = list(per_channel)
    total = sum(per_channel.values())
    channel_rows = tuple(
        (channel_name(channel), per_channel[channel], f"{per_channel[channel] / total:.0%}") for channel in channels
    )
    day_rows = tuple(
        (day_name(day), *(insights.messages[(day, channel)] for channel in channels), per_day(insights, day))
        for day in insights.days
    )
    return [
        Heading("4. Messages from parents per day and per channel"),
        Paragraph("Every message a parent sent, typed or a button press; the bot's replies are not counted."),
        Table(("Channel", "Messages", "Share"), channel_rows),
        Chart(CHANNEL_CHART, "Bar chart: messages from parents per channel"),
        Table(("Day", *(channel_name(channel) for channel in channels), "All channels"), day_rows),
        Chart(DAILY_CHART, "Bar chart: messages from parents per day, by channel"),
    ]


def channel_totals(insights: Insights) -> Dict[str, int]:
    """Messages per channel, the busiest first."""
    totals: Counter = Counter()
    for (_, channel), count in insights.messages.items():
        totals[channel] += count
    return dict(totals.most_common())


def per_day(insights: Insights, day: date) -> int:
    return sum(count for (message_day, _), count in insights.messages.items() if message_day == day)


def withheld_section(insights: Insights, titles: Mapping[str, str]) -> List[Block]:
    if not insights.withheld:
        return []
    rows = tuple((titles.get(item_id, item_id), item_id, count) for item_id, count in insights.withheld.most_common())
    return [
        Heading("Answers held back until they are approved"),
        Paragraph(
            "Times a parent asked for a text that is not approved as it stands, and was told it is being "
            "reviewed (with the number to call) instead."
        ),
        Table(("Answer", "Topic id", "Times"), rows),
    ]


# --- Charts --------------------------------------------------------------------------------------------


def charts(insights: Insights) -> Dict[str, bytes]:
    """The report's PNG charts by file name; none when there are no messages."""
    days = insights.days
    if not days:
        return {}
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    def png(figure: Any) -> bytes:
        buffer = io.BytesIO()
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=110)
        plt.close(figure)
        return buffer.getvalue()

    def by_day(axes: Any, title: str) -> None:
        """One slot per day, labelled with at most about 15 dates so that they stay readable."""
        step = max(1, math.ceil(len(days) / 15))
        axes.set_xticks(range(0, len(days), step), [f"{day.day} {day:%b}" for day in days[::step]], rotation=45)
        axes.set_xlim(-0.6, len(days) - 0.4)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(title)
        axes.legend(loc="best")

    drawn: Dict[str, bytes] = {}
    width = 0.4
    figure, axes = plt.subplots(figsize=(9, 4))
    for offset, level in ((-width / 2, "urgent"), (width / 2, "emergency")):
        counts = [insights.urgent[(day, level)] for day in days]
        axes.bar([i + offset for i in range(len(days))], counts, width=width, color=COLOURS[level], label=level.title())
    axes.set_ylim(0, max(1, *(count for count in insights.urgent.values())) * 1.15)
    by_day(axes, "Urgent and emergency messages per day")
    drawn[URGENT_CHART] = png(figure)

    channels = channel_totals(insights)
    figure, axes = plt.subplots(figsize=(9, 4))
    bottom = [0] * len(days)
    for channel in channels:
        counts = [insights.messages[(day, channel)] for day in days]
        axes.bar(range(len(days)), counts, width=0.8, bottom=bottom, label=channel_name(channel))
        bottom = [below + count for below, count in zip(bottom, counts, strict=True)]
    axes.set_ylim(0, max(bottom) * 1.15)
    by_day(axes, "Messages from parents per day")
    drawn[DAILY_CHART] = png(figure)

    figure, axes = plt.subplots(figsize=(7, 1.2 + 0.5 * len(channels)))
    names = list(reversed(channels))
    axes.barh([channel_name(channel) for channel in names], [channels[channel] for channel in names])
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("messages")
    axes.set_title("Messages from parents per channel")
    drawn[CHANNEL_CHART] = png(figure)
    return drawn


# --- Markdown ------------------------------------------------------------------------------------------

# Links need [ ] (escaped), so parentheses can stay; a bullet or cell never starts with parents' words.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&])")


def md(text: object) -> str:
    """Text that a Markdown viewer shows as written: every character with a meaning escaped."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def md_cell(cell: Cell) -> str:
    return " · ".join(md(line) for line in cell) if isinstance(cell, tuple) else md(cell)


def markdown(blocks: Sequence[Block]) -> str:
    out: List[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {md(block.text)}")
        elif isinstance(block, Paragraph):
            out.append(md(block.text))
        elif isinstance(block, Bullets):
            out.append("\n".join(f"- {md(item)}" for item in block.items))
        elif isinstance(block, Table):
            lines = [
                "| " + " | ".join(md(name) for name in block.header) + " |",
                "|" + "|".join("---:" if numeric else "---" for numeric in numeric_columns(block)) + "|",
                *("| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in block.rows),
            ]
            out.append("\n".join(lines))
        elif isinstance(block, Chart):
            out.append(f"![{md(block.alt)}]({block.file})")
    return "\n\n".join(out) + "\n"


def numeric_columns(table: Table) -> List[bool]:
    return [bool(table.rows) and all(isinstance(row[i], int) for row in table.rows) for i in range(len(table.header))]


# --- HTML ----------------------------------------------------------------------------------------------

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; color: #1a202c; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #cbd5e0; }
h3 { font-size: 1.05rem; }
table { border-collapse: collapse; margin: 0.75rem 0; }
th, td { border: 1px solid #cbd5e0; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #edf2f7; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2 { break-after: avoid; } tr, img { break-inside: avoid; }
}
"""
# Nothing but its own styles and pictures: no scripts, no requests anywhere.
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def html_cell(cell: Cell) -> str:
    if isinstance(cell, tuple):
        return "<br>".join(esc(line) for line in cell)
    return esc(cell)


def html_page(blocks: Sequence[Block], images: Mapping[str, bytes]) -> str:
    """One self-contained, printable page; `images` are the charts' PNG bytes by file name."""
    title = next((block.text for block in blocks if isinstance(block, Heading)), TITLE)
    body: List[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{esc(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{esc(block.text)}</p>")
        elif isinstance(block, Bullets):
            body.append("<ul>" + "".join(f"<li>{esc(item)}</li>" for item in block.items) + "</ul>")
        elif isinstance(block, Table):
            numeric = numeric_columns(block)
            head = "".join(f'<th scope="col">{esc(name)}</th>' for name in block.header)
            opening = ['<td class="n">' if numeric[i] else "<td>" for i in range(len(block.header))]
            rows = "".join(
                "<tr>" + "".join(f"{opening[i]}{html_cell(cell)}</td>" for i, cell in enumerate(row)) + "</tr>"
                for row in block.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, Chart) and block.file in images:
            data = base64.b64encode(images[block.file]).decode("ascii")
            body.append(f'<p><img src="data:image/png;base64,{data}" alt="{esc(block.alt)}"></p>')
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
