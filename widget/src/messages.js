// Turning what Rasa sends into what the widget shows, as plain data.
//
// Every piece of text ends up in the page through `textContent` (see chat.js),
// never as HTML, so neither a parent's message nor a reply can inject markup.

const URGENT_KINDS = new Set(["urgent", "emergency"]);

/** A `bot_uttered` event from connectors/socketio.py, as a transcript entry. */
export function botMessage(event) {
  const custom = (event && typeof event.custom === "object" && event.custom) || {};
  const buttons = (Array.isArray(event.quick_replies) ? event.quick_replies : [])
    .filter(isButton)
    .map(({ title, payload }) => ({ title, payload }));
  // The "did this help?" buttons, which the reply names in custom.feedback: shown apart from the topics.
  const rating = new Set(Array.isArray(custom.feedback) ? custom.feedback : []);
  return {
    role: "bot",
    text: typeof event.text === "string" ? event.text : "",
    kind: typeof custom.kind === "string" ? custom.kind : "",
    sourceLine: typeof custom.source_line === "string" ? custom.source_line : "",
    calls: Array.isArray(custom.call) ? custom.call.filter(isCall) : [],
    buttons: buttons.filter((button) => !rating.has(button.payload)),
    feedback: buttons.filter((button) => rating.has(button.payload)),
  };
}

export function userMessage(text) {
  return { role: "user", text };
}

export function isUrgent(message) {
  return URGENT_KINDS.has(message.kind);
}

function isCall(call) {
  return call && typeof call.number === "string" && typeof call.tel === "string";
}

function isButton(button) {
  return button && typeof button.title === "string" && typeof button.payload === "string";
}

/** Only digits and + in a tel: link, whatever the data says. */
export function telHref(tel) {
  return "tel:" + String(tel).replace(/[^0-9+]/g, "");
}
