// Entry point of itb-chat.js, the one script a web team embeds:
//
//   <script src="https://bot.example.org/widget/itb-chat.js"
//           data-server="https://bot.example.org" data-title="ITB parents' assistant"
//           data-color="#00558c" data-open="false" defer></script>
//
// docs/web-widget.md documents the options.

import { ItbChat } from "./chat.js";
import { readOptions } from "./options.js";

const script = document.currentScript;

function start() {
  if (!customElements.get("itb-chat")) customElements.define("itb-chat", ItbChat);
  const chat = document.createElement("itb-chat");
  chat.configure(readOptions(script ? script.dataset : {}, script ? script.src : window.location.href));
  document.body.append(chat);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
