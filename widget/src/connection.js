// The socket.io link to Rasa's socket.io channel (credentials.yml).
//
// Rasa replies only to the socket.io "room" named after the session, and a
// socket joins that room by sending `session_request`. So user messages wait
// in our own queue until the server has confirmed the session; socket.io's
// built-in send buffer would flush them before the session request after a
// reconnect, and their replies would go to a room nobody is in yet.
//
// Each message carries an id of its own (metadata.message_id), and each reply names
// the message it answers (in_reply_to). If the connection drops before a message
// was answered (its server died mid-turn), the message is sent again, under the
// same id, once the session is confirmed again: the parent is answered, and the
// conversation stores the message once (connectors/message_ids.py). If the first
// attempt answers after all, its replies and the second's are the same: a reply
// already shown for a message is not shown again.

import { io } from "socket.io-client";

// How many messages' replies are remembered, to tell a reply shown once from the same again.
const MESSAGES_REMEMBERED = 50;

/** Connection states the widget shows to the parent. */
export const Status = Object.freeze({
  CONNECTING: "connecting",
  CONNECTED: "connected",
  RECONNECTING: "reconnecting",
  UNREACHABLE: "unreachable",
});

export class Connection {
  /**
   * @param {string} serverUrl  Rasa server, e.g. "https://bot.example.org"
   * @param {string|null} sessionId  a session to continue, or null for a new one
   * @param {{onStatus: function(string): void, onSession: function(string): void,
   *          onBotMessage: function(object): void}} handlers
   */
  constructor(serverUrl, sessionId, handlers) {
    this.serverUrl = serverUrl;
    this.sessionId = sessionId;
    this.handlers = handlers;
    this.ready = false;
    this.queue = [];
    this.pending = []; // sent and not yet answered, in the order sent
    this.shown = new Map(); // message id -> the reply texts shown for it
    this.socket = null;
  }

  open() {
    this.handlers.onStatus(Status.CONNECTING);
    this.socket = io(this.serverUrl, {
      path: "/socket.io",
      // WebSocket first; long-polling where a proxy blocks WebSockets. Without
      // tryAllTransports, engine.io-client would retry WebSocket for ever.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnectionDelayMax: 10000,
      // Give up on one connection attempt after 8 s (socket.io's default is 20 s), so a parent
      // learns that the assistant can't be reached, with the numbers, before the 20 s reply wait ends.
      timeout: 8000,
    });
    this.socket.on("connect", () => {
      this.socket.emit("session_request", { session_id: this.sessionId });
    });
    this.socket.on("session_confirm", (confirmed) => {
      // Rasa 3.6 confirms with the id itself; accept an object too.
      const id = typeof confirmed === "string" ? confirmed : confirmed && confirmed.session_id;
      if (!id) return;
      this.sessionId = id;
      this.ready = true;
      this.handlers.onSession(id);
      this.handlers.onStatus(Status.CONNECTED);
      this.flush();
    });
    this.socket.on("bot_uttered", (message) => {
      if (this.isNew(message || {})) this.handlers.onBotMessage(message || {});
    });
    this.socket.on("disconnect", () => {
      this.ready = false;
      this.queue.unshift(...this.pending);
      this.pending = [];
      this.handlers.onStatus(Status.RECONNECTING);
    });
    this.socket.on("connect_error", () => {
      this.ready = false;
      this.handlers.onStatus(Status.UNREACHABLE);
    });
  }

  /** Whether messages are waiting for the connection to come back. */
  get hasQueued() {
    return this.queue.length > 0;
  }

  /** Send a message now, or as soon as the session is confirmed. */
  send(text) {
    this.queue.push({ text, id: messageId() });
    this.flush();
  }

  /** Note what a reply answers; false if it was already shown (the same message answered twice). */
  isNew(reply) {
    const id = typeof reply.in_reply_to === "string" ? reply.in_reply_to : null;
    if (!id) {
      this.pending = []; // a server that doesn't name the message: take it as answering them all
      return true;
    }
    const text = typeof reply.text === "string" ? reply.text : "";
    const shown = this.shown.get(id) || new Set();
    if (shown.has(text)) return false;
    shown.add(text);
    this.shown.set(id, shown);
    if (this.shown.size > MESSAGES_REMEMBERED) this.shown.delete(this.shown.keys().next().value);
    // This message and every one sent before it are answered: a conversation's turns run in order.
    const answered = this.pending.findIndex((message) => message.id === id);
    if (answered >= 0) this.pending.splice(0, answered + 1);
    return true;
  }

  flush() {
    while (this.ready && this.socket && this.socket.connected && this.queue.length) {
      const message = this.queue.shift();
      this.pending.push(message);
      this.socket.emit("user_uttered", {
        message: message.text,
        session_id: this.sessionId,
        metadata: { message_id: message.id },
      });
    }
  }
}

function messageId() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  // Pages served over plain http (randomUUID needs a secure context): random enough to tell one parent's messages apart.
  return `m-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
