"""The web chat widget in a real browser (Debian's Chromium) against the real servers.

Each test opens the demo hospital page served by scripts/serve_demo.py, as
`make run` does, and talks to a running Rasa server and action server. A
screenshot of each step is saved under results/widget/ for a reviewer to look at.
"""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from playwright.sync_api import Browser, Locator, Page, WebSocketRoute, expect, sync_playwright

from content_library.content import Content
from harness.servers import Stack, free_port, start_demo, start_stack
from paths import RESULTS, WIDGET_DIR
from tests.support.outside import missing

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
AXE = WIDGET_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = RESULTS / "widget"
PHONE = {"width": 360, "height": 740}
SOCKET_IO = re.compile(r"/socket\.io/")

# Longer than the widget's own 20 s wait for a reply, so that a reply that never came fails as
# the widget's "no answer" notice (see ask()), not as a timeout.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def demo_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def partner_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def stack(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory, demo_port: int, partner_port: int
) -> Iterator[Stack]:
    """The servers as `make run` starts them: the pages' origins allowed (ALLOWED_ORIGINS) and in --cors."""
    origins = [f"http://localhost:{demo_port}", f"http://127.0.0.1:{partner_port}"]
    running = start_stack(
        tmp_path_factory.mktemp("stack"),
        model_path,
        extra_env={"ALLOWED_ORIGINS": " ".join(origins)},
        rasa_args=["--cors", *origins],
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def demo_url(stack: Stack, demo_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server, url = start_demo(stack.url, tmp_path_factory.mktemp("demo"), demo_port)
    yield url
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        missing(f"Chromium is missing at {CHROMIUM}", "run scripts/install-chromium.sh (make test does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page in a fresh browser context: a new visitor with empty storage."""
    context = browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def open_chat(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="ITB parents' assistant").click()
    expect(bot_messages(page).first).to_contain_text("automated assistant")


def bot_messages(page: Page) -> Locator:
    return page.locator("itb-chat .message.bot")


def ask(page: Page, text: str) -> Locator:
    """Type a question and send it; return the bot reply that follows it."""
    before = bot_messages(page).count()
    page.get_by_label("Your question").fill(text)
    page.get_by_label("Your question").press("Enter")
    reply = bot_messages(page).nth(before)
    expect(reply).to_be_visible()
    # Not the widget's own "no answer came" notice: a reply from the bot.
    expect(reply).not_to_have_class(re.compile(r"\bkind-unreachable\b"))
    return reply


def test_opens_with_the_greeting_and_the_emergency_notice(page: Page, demo_url: str, content: Content) -> None:
    open_chat(page, demo_url)
    expect(bot_messages(page).first).to_have_text(re.compile(re.escape(content.replies["greet"].text)))
    expect(page.locator("itb-chat .notice")).to_have_text(content.replies["notice"].text)
    screenshot(page, "01-greeting")


def test_a_question_gets_its_answer_and_source(page: Page, demo_url: str, content: Content) -> None:
    open_chat(page, demo_url)
    reply = ask(page, "how often does the pump get refilled?")
    answer = content.answers["pump_refill"]
    expect(reply.locator(".text")).to_have_text(answer.text)
    expect(reply.locator(".source")).to_have_text(answer.source_line)
    screenshot(page, "02-answer-with-source")


def test_a_suggested_topic_button_gets_that_answer(page: Page, demo_url: str, content: Content) -> None:
    open_chat(page, demo_url)
    answer = content.answers["side_effects"]
    page.get_by_role("button", name=answer.title).click()
    expect(page.locator("itb-chat .message.user").last).to_contain_text(answer.title)
    expect(bot_messages(page).nth(1).locator(".text")).to_have_text(answer.text)
    screenshot(page, "03-topic-button")


def test_an_answer_asks_did_this_help_and_a_rating_is_thanked(page: Page, demo_url: str, content: Content) -> None:
    open_chat(page, demo_url)
    ask(page, "what are the side effects?")
    rating = page.get_by_role("group", name="Did this help?")
    expect(rating).to_be_visible()
    expect(page.get_by_role("group", name="Suggested questions")).to_contain_text(
        content.answers["withdrawal"].title  # the related topics stay their own group
    )
    expect(page.get_by_role("group", name="Suggested questions")).not_to_contain_text("This didn't help")
    screenshot(page, "03b-did-this-help")
    rating.get_by_role("button", name="This didn't help").click()
    expect(page.locator("itb-chat .message.user").last).to_have_text(re.compile("This didn't help"))
    expect(bot_messages(page).last).to_have_class(re.compile(r"\bkind-feedback\b"))
    expect(bot_messages(page).last).to_contain_text("Sorry that didn't help")
    expect(page.get_by_role("group", name="Did this help?")).to_have_count(0)  # asked once, about that answer


def test_an_urgent_message_stands_out_with_a_number_to_dial(page: Page, demo_url: str, content: Content) -> None:
    open_chat(page, demo_url)
    calm_background = bot_messages(page).first.evaluate("node => getComputedStyle(node).backgroundColor")
    reply = ask(page, "his pump alarm is beeping and he's getting really floppy")
    expect(reply).to_have_class(re.compile(r"\bkind-urgent\b"))
    expect(reply.locator(".alert-label")).to_have_text(re.compile("Urgent"))
    expect(reply.locator(".text")).to_contain_text(content.contacts["hospital_phone"])
    expect(reply.locator(f'a[href="tel:{content.contacts["hospital_phone_tel"]}"]')).to_be_visible()
    assert reply.evaluate("node => getComputedStyle(node).backgroundColor") != calm_background
    screenshot(page, "04-urgent")


def test_a_reload_continues_the_conversation(page: Page, demo_url: str, content: Content) -> None:
    open_chat(page, demo_url)
    ask(page, "where does the pump go")
    session_before = page.evaluate("() => document.querySelector('itb-chat').transcript.sessionId")
    page.reload()
    expect(bot_messages(page).nth(1).locator(".text")).to_have_text(content.answers["pump_location"].text)
    reply = ask(page, "what does intrathecal mean")
    expect(reply.locator(".source")).to_be_visible()
    # Answered in the same Rasa conversation: the session the server confirmed after the reload.
    assert page.evaluate("() => document.querySelector('itb-chat').transcript.sessionId") == session_before
    screenshot(page, "05-after-reload")


def test_everything_works_from_the_keyboard(page: Page, demo_url: str, content: Content) -> None:
    page.goto(demo_url)
    page.keyboard.press("Tab")
    launcher = page.get_by_role("button", name="ITB parents' assistant")
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    question = page.get_by_label("Your question")
    expect(question).to_be_focused()
    expect(bot_messages(page).first).to_contain_text("automated assistant")
    page.keyboard.type("what is baclofen")
    page.keyboard.press("Enter")
    expect(bot_messages(page).nth(1).locator(".text")).to_have_text(content.answers["baclofen_what"].text)
    first_topic = page.locator("itb-chat .quick-reply").first
    topic_title = first_topic.inner_text()
    for _ in range(10):  # from the input, past Send, to the suggested topics
        page.keyboard.press("Tab")
        if first_topic.evaluate("node => node.matches(':focus')"):
            break
    expect(first_topic).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("itb-chat .message.user").last).to_have_text(re.compile(re.escape(topic_title)))
    expect(bot_messages(page)).to_have_count(3)
    page.keyboard.press("Escape")
    expect(launcher).to_be_focused()
    screenshot(page, "06-keyboard-closed")


def test_no_serious_accessibility_violations(page: Page, demo_url: str) -> None:
    open_chat(page, demo_url)
    ask(page, "how does the pump work")
    ask(page, "she's having a seizure and won't wake up")
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "07-axe-checked")


BAD_INPUT = [
    '<img src=x onerror="window.injected = true">',
    "<script>window.injected = true</script>",
    "🙂🙂🙂",
    "مرحبا، هل يمكنك مساعدتي؟",
    "my son has the pump " * 60,
]


def test_bad_input_shows_as_text_and_gets_a_reply(page: Page, demo_url: str) -> None:
    open_chat(page, demo_url)
    for text in BAD_INPUT:
        ask(page, text)
        expect(page.locator("itb-chat .message.user").last).to_have_text("You said: " + text.strip())
    assert page.evaluate("() => window.injected") is None
    assert page.locator("itb-chat .log img, itb-chat .log script").count() == 0
    screenshot(page, "08-bad-input")


def test_a_dropped_connection_reconnects_says_so_and_sends_what_was_typed(
    page: Page, demo_url: str, content: Content
) -> None:
    online = threading.Event()
    online.set()

    def websocket(socket: WebSocketRoute) -> None:
        if online.is_set():
            socket.connect_to_server()
        else:
            socket.close()

    # Both of socket.io's transports go through the switch: WebSocket, and long-polling over HTTP.
    page.route_web_socket(SOCKET_IO, websocket)
    page.route(SOCKET_IO, lambda route: route.continue_() if online.is_set() else route.abort("internetdisconnected"))
    open_chat(page, demo_url)

    online.clear()  # the phone loses its signal: the open connection drops, new ones fail
    page.evaluate("() => document.querySelector('itb-chat').connection.socket.io.engine.close()")
    page.get_by_label("Your question").fill("what is spasticity")
    page.get_by_label("Your question").press("Enter")
    status = page.locator("itb-chat .status")
    expect(status).to_contain_text(content.replies["unreachable"].text)
    expect(status).to_contain_text("Your message will be sent when the connection is back.")
    expect(bot_messages(page)).to_have_count(1)  # the greeting; the question is waiting
    screenshot(page, "09-offline")

    online.set()
    expect(status).to_have_text(re.compile("Reconnected"))
    expect(bot_messages(page).nth(1).locator(".text")).to_have_text(content.answers["spasticity_what"].text)
    screenshot(page, "10-reconnected")


def as_text(frame: str | bytes) -> str:
    """A WebSocket frame as text: socket.io's event packets are `42["event", {...}]`."""
    return frame if isinstance(frame, str) else frame.decode()


def test_a_message_whose_connection_drops_before_any_reply_is_sent_again_under_its_id(
    page: Page, demo_url: str, content: Content
) -> None:
    """As when the replica holding the chat dies mid-turn (tests/test_cluster.py has the real kill)."""
    questions: List[Dict[str, Any]] = []

    def drop_the_first_question(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def to_server(frame: str | bytes) -> None:
            text = as_text(frame)
            if text.startswith('42["user_uttered"') and "dystonia" in text:  # not the greeting
                questions.append(json.loads(text[2:])[1])
                if len(questions) == 1:  # received, never answered: the server went away with it
                    server.close()
                    socket.close()
                    return
            server.send(frame)

        socket.on_message(to_server)

    page.route_web_socket(SOCKET_IO, drop_the_first_question)
    open_chat(page, demo_url)
    expect(ask(page, "what is dystonia").locator(".text")).to_have_text(content.answers["dystonia_what"].text)
    expect(page.locator("itb-chat .message.user")).to_have_count(1)  # sent again, not typed again
    assert [question["message"] for question in questions] == ["what is dystonia"] * 2
    first, again = (question["metadata"]["message_id"] for question in questions)
    assert first == again and len(first) >= 8


def test_an_answer_that_comes_after_all_to_a_message_sent_again_is_shown_once(
    page: Page, demo_url: str, content: Content
) -> None:
    """The first attempt's reply arrives after the widget reconnected and sent the message again."""
    held: List[str | bytes] = []  # the first attempt's replies, kept back until the widget has rejoined
    forwarded: List[str] = []  # replies to the question that reached the page

    def answer_late(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        rejoined = bool(held)

        def to_page(frame: str | bytes) -> None:
            nonlocal rejoined
            text = as_text(frame)
            if text.startswith('42["bot_uttered"'):
                reply = json.loads(text[2:])[1]
                if reply["text"] == content.answers["dystonia_what"].text:
                    if not held and not rejoined:  # the first attempt's answer: the connection drops before it
                        held.append(frame)
                        socket.close()
                        return
                    forwarded.append(text)
            socket.send(frame)
            if rejoined and text.startswith('42["session_confirm"'):
                rejoined = False
                for late in held:  # the first attempt answers after all, on the new connection
                    forwarded.append(as_text(late))
                    socket.send(late)

        server.on_message(to_page)

    page.route_web_socket(SOCKET_IO, answer_late)
    open_chat(page, demo_url)
    expect(ask(page, "what is dystonia").locator(".text")).to_have_text(content.answers["dystonia_what"].text)
    for _ in range(400):  # until both answers have reached the page (20 s at most)
        if len(forwarded) >= 2:
            break
        page.wait_for_timeout(50)
    assert len(forwarded) == 2, "the late answer and the second answer should both have reached the page"
    expect(bot_messages(page)).to_have_count(2)  # the greeting and one answer
    first, again = (json.loads(text[2:])[1]["in_reply_to"] for text in forwarded[:2])
    assert first == again


def test_a_reply_that_never_comes_is_owned_up_to_with_the_numbers(page: Page, demo_url: str, content: Content) -> None:
    replies_lost = threading.Event()

    def lose_bot_replies(socket: WebSocketRoute) -> None:
        """Pass the real socket.io traffic through, except the bot's replies once `replies_lost` is set."""
        server = socket.connect_to_server()

        def to_page(frame: str | bytes) -> None:
            if not (replies_lost.is_set() and "bot_uttered" in str(frame)):
                socket.send(frame)

        server.on_message(to_page)

    page.route_web_socket(SOCKET_IO, lose_bot_replies)
    page.clock.install()
    open_chat(page, demo_url)
    replies_lost.set()
    page.get_by_label("Your question").fill("what is dystonia")
    page.get_by_label("Your question").press("Enter")
    expect(page.locator("itb-chat .typing")).to_be_visible()
    page.clock.fast_forward("00:21")
    notice = bot_messages(page).nth(1)
    expect(notice).to_have_class(re.compile(r"\bkind-unreachable\b"))
    expect(notice.locator(".text")).to_have_text(content.replies["unreachable"].text)
    for call in content.calls("unreachable"):
        expect(notice.locator(f'a[href="tel:{call["tel"]}"]')).to_be_visible()
    expect(page.locator("itb-chat .typing")).to_be_hidden()
    screenshot(page, "11-no-reply")


@contextmanager
def partner_page(snippet: str, port: int) -> Iterator[str]:
    """A page on another origin than the widget's server and Rasa, with the embed snippet pasted in.

    Served for real: Chromium treats a page Playwright fakes with `route` as public, and blocks its
    requests to loopback addresses (Local Network Access), which no real deployment meets.
    """
    body = f'<!doctype html><html lang="en"><title>Partner</title><body><h1>Partner</h1>{snippet}</body></html>'

    class PartnerPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), PartnerPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/living-with-a-pump"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "color, header_background",
    [("#6a1b9a", "rgb(106, 27, 154)"), ("#ffff00", "rgb(0, 85, 140)")],  # yellow fails AA with white text
    ids=["readable-colour", "unreadable-colour-replaced"],
)
def test_the_embed_snippet_options_on_a_partner_page(
    page: Page, demo_url: str, stack: Stack, partner_port: int, color: str, header_background: str
) -> None:
    snippet = (
        f'<script src="{demo_url}itb-chat.js" data-server="{stack.url}" data-title="Ask about ITB"'
        f' data-color="{color}" data-open="true" defer></script>'
    )
    with partner_page(snippet, partner_port) as url:
        page.goto(url)
        chat = page.get_by_role("dialog", name="Ask about ITB")
        expect(chat).to_be_visible()  # open on load, no click
        expect(bot_messages(page).first).to_contain_text("automated assistant")
        assert chat.locator("header").evaluate("node => getComputedStyle(node).backgroundColor") == header_background


def test_an_unreachable_server_still_shows_the_on_call_number(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory, content: Content
) -> None:
    nobody_listening = f"http://127.0.0.1:{free_port()}"
    server, url = start_demo(nobody_listening, tmp_path_factory.mktemp("demo-down"))
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_role("button", name="ITB parents' assistant").click()
        status = page.locator("itb-chat .status")
        expect(status).to_contain_text(content.replies["unreachable"].text)
        for call in content.calls("unreachable"):
            expect(status.locator(f'a[href="tel:{call["tel"]}"]')).to_have_text(re.compile(re.escape(call["number"])))
        screenshot(page, "12-unreachable")
    finally:
        context.close()
        server.stop()
