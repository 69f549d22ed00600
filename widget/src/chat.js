// The <itb-chat> element: a launcher button and a chat panel in a shadow root,
// so the host page's CSS can't break the widget and the widget's can't break
// the page.

import widgetContent from "../build/content.json";
import styles from "./styles.css";
import { Connection, Status } from "./connection.js";
import { botMessage, isUrgent, telHref, userMessage } from "./messages.js";
import { Transcript } from "./transcript.js";

// How long a parent waits before we say no answer came and show the numbers.
const REPLY_TIMEOUT_MS = 20000;
// Sent, unseen, when a conversation starts: the bot's greeting carries the notice.
const GREETING_PAYLOAD = "/greet";

function el(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

/** Text for screen readers only (who said what); sighted users see it from the layout. */
function screenReaderOnly(text) {
  return el("span", { class: "visually-hidden" }, text);
}

export class ItbChat extends HTMLElement {
  /** @param {{server: string, title: string, color: string, open: boolean}} options */
  configure(options) {
    this.options = options;
  }

  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: "open" });
    const style = el("style");
    style.textContent = styles;
    root.append(style);
    this.style.setProperty("--itb-primary", this.options.color);

    this.transcript = new Transcript(`itb-chat:${this.options.server}`);
    this.build(root);
    for (const message of this.transcript.messages) this.render(message);
    this.showQuickReplies();

    this.connection = new Connection(this.options.server, this.transcript.sessionId, {
      onStatus: (status) => this.showStatus(status),
      onSession: (id) => this.startSession(id),
      onBotMessage: (event) => this.receive(botMessage(event)),
    });
    this.connection.open();
    if (this.options.open || this.transcript.open) this.setOpen(true, { focus: false });
    // Reloaded while waiting: the reply may have gone to the old page, so wait
    // again, and if nothing comes, say so and show the numbers.
    if (this.lastMessage() && this.lastMessage().role === "user") this.expectReply();
  }

  lastMessage() {
    return this.transcript.messages[this.transcript.messages.length - 1];
  }

  build(root) {
    const title = this.options.title;
    this.launcher = el("button", {
      class: "launcher",
      type: "button",
      "aria-expanded": "false",
      "aria-controls": "itb-panel",
    });
    this.launcher.append(el("span", { class: "launcher-icon", "aria-hidden": "true" }, "💬"), title);
    this.launcher.addEventListener("click", () => this.setOpen(!this.isOpen));

    this.panel = el("section", { id: "itb-panel", class: "panel", role: "dialog", "aria-labelledby": "itb-title" });
    this.panel.hidden = true;
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.setOpen(false);
    });

    const header = el("header");
    header.append(el("h2", { id: "itb-title" }, title));
    const close = el("button", { class: "close", type: "button", "aria-label": `Close ${title}` }, "×");
    close.addEventListener("click", () => this.setOpen(false));
    header.append(close);

    const notice = el("p", { class: "notice" }, widgetContent.notice);

    this.status = el("div", { class: "status", role: "status" });
    this.status.hidden = true;

    this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
    this.typing = el("p", { class: "typing", role: "status" });
    this.typing.append(el("span", { class: "dots", "aria-hidden": "true" }, "• • •"));
    this.typing.append(screenReaderOnly("The assistant is typing"));
    this.typing.hidden = true;

    this.form = el("form", { class: "composer" });
    const label = el("label", { for: "itb-input", class: "visually-hidden" }, "Your question");
    this.input = el("input", {
      id: "itb-input",
      type: "text",
      dir: "auto",
      autocomplete: "off",
      enterkeyhint: "send",
      placeholder: "Type your question",
    });
    const send = el("button", { type: "submit", class: "send" }, "Send");
    this.form.append(label, this.input, send);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendTyped();
    });

    this.panel.append(header, notice, this.status, this.log, this.typing, this.form);
    root.append(this.launcher, this.panel);
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  setOpen(open, { focus = true } = {}) {
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    this.launcher.hidden = open;
    this.transcript.open = open;
    if (open) {
      if (!this.transcript.messages.length) this.greet();
      if (focus) this.input.focus();
      this.scrollToEnd();
    } else if (focus) {
      this.launcher.focus();
    }
  }

  startSession(id) {
    const isNew = this.transcript.sessionId !== id;
    this.transcript.sessionId = id;
    if (isNew && this.isOpen && !this.transcript.messages.length) this.greet();
  }

  greet() {
    if (this.greeted) return;
    this.greeted = true;
    this.expectReply();
    this.connection.send(GREETING_PAYLOAD);
  }

  sendTyped() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.say(text, text);
  }

  /** Show what the parent chose or typed, and send the payload behind it. */
  say(shown, payload) {
    this.removeQuickReplies();
    this.add(userMessage(shown));
    this.expectReply();
    this.connection.send(payload);
    if (this.currentStatus === Status.UNREACHABLE) this.showQueued();
  }

  showQueued() {
    if (this.status.querySelector(".queued")) return;
    this.status.append(el("p", { class: "queued" }, "Your message will be sent when the connection is back."));
  }

  receive(message) {
    this.stopWaiting();
    if (!this.down) this.status.hidden = true; // "Reconnected" has been read by now
    if (!message.text && !message.buttons.length) return;
    this.removeQuickReplies();
    this.add(message);
    this.showQuickReplies();
  }

  add(message) {
    this.transcript.add(message);
    this.render(message);
  }

  expectReply() {
    // Nothing is on its way while the server is unreachable; the status says so.
    if (this.currentStatus === Status.UNREACHABLE) return;
    this.typing.hidden = false;
    clearTimeout(this.replyTimer);
    this.replyTimer = setTimeout(() => this.noReply(), REPLY_TIMEOUT_MS);
    this.scrollToEnd();
  }

  stopWaiting() {
    this.typing.hidden = true;
    clearTimeout(this.replyTimer);
  }

  noReply() {
    this.stopWaiting();
    this.add({ role: "bot", kind: "unreachable", text: widgetContent.unreachable, calls: widgetContent.calls });
  }

  render(message) {
    const item = el("div", { class: `message ${message.role}`, dir: "auto" });
    if (message.role === "user") {
      item.append(screenReaderOnly("You said: "), el("span", {}, message.text));
    } else {
      if (message.kind) item.classList.add(`kind-${message.kind}`);
      if (isUrgent(message)) {
        const label = message.kind === "emergency" ? "Emergency" : "Urgent";
        const heading = el("p", { class: "alert-label" });
        heading.append(el("span", { class: "alert-icon", "aria-hidden": "true" }, "⚠"), label);
        item.append(heading);
      } else {
        item.append(screenReaderOnly("Assistant: "));
      }
      item.append(el("p", { class: "text" }, message.text));
      if (message.sourceLine) item.append(el("p", { class: "source" }, message.sourceLine));
      if (message.calls && message.calls.length) item.append(this.callLinks(message.calls));
    }
    this.log.append(item);
    this.scrollToEnd();
  }

  callLinks(calls) {
    const list = el("p", { class: "calls" });
    for (const call of calls) {
      list.append(el("a", { class: "call", href: telHref(call.tel) }, `Call ${call.number} (${call.label})`));
    }
    return list;
  }

  /**
   * Quick replies belong to the latest reply only, and only until the parent answers. The
   * "did this help?" pair comes first, small, right under the answer it rates; then the topics.
   */
  showQuickReplies() {
    const last = this.lastMessage();
    if (!last || last.role !== "bot") return;
    if (last.feedback && last.feedback.length) {
      const rating = el("div", { class: "quick-replies feedback", role: "group", "aria-label": "Did this help?" });
      rating.append(el("span", { class: "feedback-question", "aria-hidden": "true" }, "Did this help?"));
      for (const button of last.feedback) rating.append(this.choice(button, "feedback-choice"));
      this.log.append(rating);
    }
    if (last.buttons && last.buttons.length) {
      const group = el("div", { class: "quick-replies", role: "group", "aria-label": "Suggested questions" });
      for (const button of last.buttons) group.append(this.choice(button, "quick-reply"));
      this.log.append(group);
    }
    this.scrollToEnd();
  }

  choice(button, className) {
    const choice = el("button", { type: "button", class: className }, button.title);
    choice.addEventListener("click", () => {
      this.say(button.title, button.payload);
      this.input.focus();
    });
    return choice;
  }

  removeQuickReplies() {
    for (const group of this.log.querySelectorAll(".quick-replies")) group.remove();
  }

  showStatus(status) {
    if (status === this.currentStatus) return; // socket.io retries; say it once
    this.currentStatus = status;
    const wasDown = this.down;
    this.status.replaceChildren();
    this.status.className = `status ${status}`;
    if (status === Status.CONNECTED || status === Status.CONNECTING) {
      this.down = false;
      this.status.hidden = !(status === Status.CONNECTED && wasDown);
      if (!this.status.hidden) this.status.textContent = "Reconnected. You can carry on.";
      // Messages queued while down have just been sent: wait for their reply.
      if (wasDown && this.lastMessage() && this.lastMessage().role === "user") this.expectReply();
      return;
    }
    this.down = true;
    this.status.hidden = false;
    if (status === Status.RECONNECTING) {
      this.status.append(el("p", {}, "Connection lost. Reconnecting… Anything you send will go when it's back."));
    } else {
      this.stopWaiting();
      this.status.append(el("p", {}, widgetContent.unreachable), this.callLinks(widgetContent.calls));
      if (this.connection.hasQueued) this.showQueued();
    }
    this.scrollToEnd(); // the status box takes room from the conversation: keep its end in view
  }

  scrollToEnd() {
    if (this.log) this.log.scrollTop = this.log.scrollHeight;
  }
}
