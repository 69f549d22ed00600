"""Messages the assistant can't read (a photo, a voice note, a sticker) still get a reply.

Rasa's Telegram channel drops such updates without a word, and its Twilio
channel fails on an MMS with no text. A parent who sends a photo of the pump
site must not be met with silence. The message becomes the fallback intent,
whose vetted reply (content/answers.yml, `fallback`) asks them to put it in
words and gives the hospital's number.
"""

from __future__ import annotations

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME, INTENT_MESSAGE_PREFIX

UNREADABLE = INTENT_MESSAGE_PREFIX + DEFAULT_NLU_FALLBACK_INTENT_NAME


def unreadable_message(output_channel: OutputChannel, sender_id: str, input_channel: str) -> UserMessage:
    return UserMessage(UNREADABLE, output_channel, sender_id, input_channel=input_channel)
