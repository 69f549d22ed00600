// The conversation so far, kept in the tab's sessionStorage.
//
// sessionStorage survives a reload (so the conversation continues) but not
// closing the tab: on a shared family computer, what a parent asked about
// their child is not left behind for the next person.

const MAX_MESSAGES = 200;

export class Transcript {
  /** @param {string} key  one conversation per server, so two bots on a page don't mix */
  constructor(key) {
    this.key = key;
    this.state = this.load();
  }

  load() {
    try {
      const saved = JSON.parse(window.sessionStorage.getItem(this.key) || "null");
      if (saved && Array.isArray(saved.messages)) return saved;
    } catch (error) {
      // Storage blocked (privacy mode) or a damaged entry: start afresh.
    }
    return { sessionId: null, messages: [], open: false };
  }

  save() {
    try {
      window.sessionStorage.setItem(this.key, JSON.stringify(this.state));
    } catch (error) {
      // Storage full or blocked: the chat still works, it just won't survive a reload.
    }
  }

  get sessionId() {
    return this.state.sessionId;
  }

  set sessionId(id) {
    this.state.sessionId = id;
    this.save();
  }

  get messages() {
    return this.state.messages;
  }

  get open() {
    return this.state.open;
  }

  set open(value) {
    this.state.open = value;
    this.save();
  }

  add(message) {
    this.state.messages.push(message);
    this.state.messages = this.state.messages.slice(-MAX_MESSAGES);
    this.save();
  }
}
