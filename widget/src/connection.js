// The socket.io link to Rasa's socket.io channel (credentials.yml).
//
// Rasa replies only to the socket.io "room" named after the session, and a
// socket joins that room by sending `session_request`. So user messages wait
// in our own queue until the server has confirmed the session; socket.io's
// built-in send buffer would flush them before the session request after a
// reconnect, and their replies would go to a room nobody is in yet.

import { io } from "socket.io-client";

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
    this.unanswered = null; // the last message sent, until a reply comes
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
      this.unanswered = null;
      this.handlers.onBotMessage(message || {});
    });
    this.socket.on("disconnect", () => {
      this.ready = false;
      if (this.unanswered) {
        this.queue.unshift(this.unanswered);
        this.unanswered = null;
      }
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

  flush() {
    while (this.ready && this.socket && this.socket.connected && this.queue.length) {
      const message = this.queue.shift();
      this.unanswered = message;
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
