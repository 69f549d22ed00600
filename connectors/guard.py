"""Every message a parent sends gets a reply, whatever else is failing.

Rasa sends nothing when the action server is down or answers with an error: it
logs the failure and the parent's message gets an empty reply list. A slow
action server is worse: Rasa waits up to five minutes for it. Urgent replies
are domain responses and still go out, but any other question would be met
with silence.

`guarded` wraps the handler Rasa gives every input channel (REST, socket.io
and the messaging apps). Each channel applies it first, so it sits next to
Rasa and sees the output channel the parent's replies really go to (what a
channel does before, such as reading an SMS "2" as an option, is the
channel's). It:

- makes the text safe for the model (connectors/incoming.py): control
  characters out, long messages shortened, and the parent told;
- names the message by the id its client gave it, if any, so a message sent
  again is stored once (connectors/message_ids.py);
- holds the turn's replies until the turn is stored (up to `HOLD_SECONDS`), so
  what a parent was shown is in the conversation even if the server dies;
- gives the turn `REPLY_DEADLINE_SECONDS` (default 8); the work goes on after
  that, so the conversation is still recorded, but what it sends late is
  dropped;
- sends a vetted reply when the turn produced none in time: the apology with
  the on-call and emergency numbers, or the urgent reply if the message has a
  red flag.

Building it also sets up the Rasa server process once: Rasa's log without
tracebacks for expected failures, its check of action server responses
with the schema compiled once (rasa_patches/action_response_check.py), and
its model graphs run without dask (rasa_patches/graph_runner.py)."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Dict, List

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException

from connectors.incoming import prepare, red_flag_level, warm_up
from connectors.message_ids import client_message_id
from connectors.plain_text import OnNewMessage
from connectors.unreadable import UNREADABLE
from content_library.content import Content, load_content
from content_library.signoff import SignOffError, red_flags_problem, require_fallbacks
from conversations.ids import conversation_id
from rasa_patches.action_response_check import validate_once
from rasa_patches.graph_runner import use_sequential_graph_runner
from urgency.red_flags import LEVELS

logger = logging.getLogger(__name__)

REPLY_DEADLINE_ENV = "REPLY_DEADLINE_SECONDS"
# Long enough for a busy server's normal reply, short enough that a parent
# (and Twilio, which gives up after 15 s) is not left waiting.
DEFAULT_REPLY_DEADLINE = 8.0
# How long a turn's replies wait for the turn to be stored (TurnOutput); a normal turn takes ~30 ms.
HOLD_SECONDS = 2.0


def reply_deadline() -> float:
    value = os.environ.get(REPLY_DEADLINE_ENV, "").strip()
    if not value:
        return DEFAULT_REPLY_DEADLINE
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if seconds > 0:
        return seconds
    logger.warning("%s=%r is not a number of seconds; using %s.", REPLY_DEADLINE_ENV, value, DEFAULT_REPLY_DEADLINE)
    return DEFAULT_REPLY_DEADLINE


def channel_reply(content: Content, reply_id: str) -> Dict[str, Any]:
    """A vetted reply as Rasa hands bot messages to an output channel."""
    reply = content.replies[reply_id]
    custom: Dict[str, Any] = {"kind": reply.kind, "answer_id": reply.id}
    calls = content.calls(reply.kind)
    if calls:
        custom["call"] = calls
    return {"text": reply.text, "custom": custom}


def is_urgent(message: Dict[str, Any]) -> bool:
    """A reply with the on-call number or 000 (its kind is a red-flag level): never held back (TurnOutput)."""
    return (message.get("custom") or {}).get("kind") in LEVELS


def stand_in_reply(text: str) -> str:
    """What to send when the turn sent nothing in time.

    Usually the apology. But a stuck earlier turn holds the conversation's lock,
    so an urgent message right after it would wait past its own deadline: the
    red-flag phrases are checked here too, and an urgent message still gets the
    urgent reply (emergency: 000 first).
    """
    return red_flag_level(text) or "unavailable"


class TurnOutput(OutputChannel):
    """The channel's own output for one turn: holds the replies until the turn is stored (an urgent
    reply excepted: the number goes at once, with what came before it), counts what
    is sent, and is closed at the deadline.

    Rasa sends each reply as its action runs and stores the turn after the last: a replica killed in
    between had shown an answer the conversation never kept (`make bench-cluster`). So replies wait
    for the end of the turn (a few milliseconds), or for HOLD_SECONDS if the end is slow (a save
    tried again while the database restarts), whichever comes first. Closed, it drops what comes
    late: by then the parent has had the apology, and an answer arriving after it would read as a
    reply to something else.
    """

    def __init__(self, output: OutputChannel, recipient_id: str) -> None:
        self.output = output
        self.recipient_id = recipient_id  # the platform's id: Rasa knows the conversation by its namespaced one
        self.sent = 0
        self.closed = False
        self.holding = True
        self.held: List[Dict[str, Any]] = []

    def name(self) -> str:  # type: ignore[override]
        return self.output.name()

    def __getattr__(self, attribute: str) -> Any:
        # Anything else Rasa or a channel asks of the output (e.g. a client) is the wrapped output's.
        if attribute == "output":
            raise AttributeError(attribute)
        return getattr(self.output, attribute)

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if self.closed:
            logger.warning("A reply came after its turn's deadline and was not sent.")
            return
        if self.holding and not is_urgent(message):
            self.held.append(message)
            return
        if self.holding:  # the on-call number waits for nothing; what came before it goes first
            await self.release()
        self.sent += 1
        await self.output.send_response(self.recipient_id, message)

    async def release(self) -> None:
        """Send what is held, and from now on each reply as it comes."""
        self.holding = False
        held, self.held = self.held, []
        for message in held:
            await self.send_response(self.recipient_id, message)


def guarded(on_new_message: OnNewMessage, channel: str) -> OnNewMessage:
    """`on_new_message` that always answers, in time, with text the model can handle, in `channel`'s conversations."""
    content = load_content()
    try:
        require_fallbacks(content)
    except SignOffError as error:
        # Said loudly, but this server still starts: it sends the urgent replies, and a parent with an
        # urgent message must get the number even while a reworded apology waits for approval.
        logger.error("%s", error)
    alarms = red_flags_problem(content)
    if alarms:
        logger.error("%s", alarms)
    deadline = reply_deadline()
    warm_up()
    quiet_expected_failures()
    validate_once()
    use_sequential_graph_runner()

    async def handle(message: UserMessage) -> None:
        incoming = prepare(message.text)
        message.text = incoming.text or UNREADABLE
        recipient = message.sender_id
        message.sender_id = conversation_id(channel, recipient)
        message.message_id = client_message_id(message.metadata) or message.message_id
        output = TurnOutput(message.output_channel, recipient)
        message.output_channel = output
        turn = asyncio.ensure_future(on_new_message(message))
        turn.add_done_callback(_log_failure)
        try:
            try:
                await asyncio.wait_for(asyncio.shield(turn), min(HOLD_SECONDS, deadline))
            except asyncio.TimeoutError:
                await output.release()  # a slow end of turn must not hold back an answer already made
                await asyncio.wait_for(asyncio.shield(turn), max(0.0, deadline - HOLD_SECONDS))
        except asyncio.TimeoutError:
            logger.warning("The reply took longer than %s s (is the action server slow?).", deadline)
        except asyncio.CancelledError:
            # The parent's connection closed (Sanic cancels the request). Rasa's REST
            # handler would log the message text for this; there is no one to answer.
            logger.info("The connection closed before the reply was ready.")
            output.closed = True
            return
        except Exception:  # logged by _log_failure; the parent still gets a reply
            pass
        await output.release()
        output.closed = True
        if output.sent == 0:
            reply_id = stand_in_reply(message.text)
            logger.info("No reply in time for a message; sent the %s reply with the numbers.", reply_id)
            await output.output.send_response(recipient, channel_reply(content, reply_id))
        if incoming.shortened:
            await output.output.send_response(recipient, channel_reply(content, "shortened"))

    return handle


def _log_failure(turn: "asyncio.Future[Any]") -> None:
    """Log a turn that failed, also one that fails after its deadline (asyncio would print "never retrieved")."""
    if turn.cancelled() or turn.exception() is None:
        return
    # The type only: an exception's text can quote what the parent wrote.
    logger.error("Handling a message failed with %s.", type(turn.exception()).__name__)


class _WithoutActionTraceback(logging.Filter):
    """Rasa's own log line for a failed custom action, without the traceback.

    An unreachable or failing action server is an expected condition: Rasa
    already says which action failed and where it looked for the server.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        failed = isinstance(error, RasaException) and str(error).startswith("Failed to")
        # After five minutes without an answer, Rasa's request to the action server times out.
        if failed or isinstance(error, asyncio.TimeoutError):
            record.msg = f"{record.getMessage()} {error or 'The action server did not answer in time.'}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_expected_failures() -> None:
    processor_logger = logging.getLogger("rasa.core.processor")
    if not any(isinstance(existing, _WithoutActionTraceback) for existing in processor_logger.filters):
        processor_logger.addFilter(_WithoutActionTraceback())
