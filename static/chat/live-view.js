// A streaming reply shown as formatted markdown while it arrives.
//
// Text is added as it comes, but drawn at most once an animation frame, and only its last
// block is parsed again each time: when the text so far holds more than one block, every
// block before the last one is finished (something came after it), so it is rendered once,
// kept in the DOM, and its code highlighted; the last block is re-rendered from its own
// source. A frame's work therefore follows the size of the last block, not of the reply.
// When the reply ends, the server's HTML replaces all of it (messages.js, renderFinished).
import { createRenderer, pageRules } from './markdown.js';

let renderer; // one per page, made on first use (the rules are the page's)

function getRenderer() {
  if (renderer === undefined) {
    const rules = pageRules();
    renderer = rules ? createRenderer(rules) : null;
  }
  return renderer;
}

// A list followed by what may still become its next item ("2", "- ") is not finished yet:
// committing it would split one list in two.
const MAYBE_ITEM = /^ {0,3}(?:[-*+]|\d{1,9}[.)]?)?(?:[ \t]|$)/;

export class LiveView {
  constructor(body) {
    this.body = body;
    this.renderer = getRenderer();
    this.text = ''; // everything received
    this.committed = 0; // how much of `text` is rendered for good
    this.frame = 0; // the pending animation frame, if any
    this.tail = null; // the element holding the last, unfinished block
    this.pendingCR = '';
    this.reset();
    if (this.renderer) body.classList.add('is-formatted');
    body.liveView = this; // what it holds, for the browser tests' recorder
  }

  reset() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.text = '';
    this.committed = 0;
    this.pendingCR = '';
    this.tail = document.createElement('div');
    this.tail.className = 'live-tail';
    this.body.replaceChildren(this.tail);
  }

  // Start from a snapshot (the whole text so far).
  replace(text) {
    this.reset();
    this.append(text);
  }

  append(text) {
    if (!text) return;
    // marked reads CR and CRLF as LF, and the offsets of its tokens count them so: keep the
    // text that way (a CR at a delta's end may be the first half of a CRLF).
    let piece = this.pendingCR + text;
    this.pendingCR = piece.endsWith('\r') ? '\r' : '';
    if (this.pendingCR) piece = piece.slice(0, -1);
    this.text += piece.replace(/\r\n?/g, '\n');
    if (!this.renderer) {
      this.tail.append(document.createTextNode(piece)); // no rules: plain text, as before
      return;
    }
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  // Draw now what is pending (the reply ended, or a test wants to measure).
  flush() {
    if (this.frame) this.draw();
  }

  stop() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  draw() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const { renderer } = this;
    const tokens = renderer.lex(this.text.slice(this.committed));
    const blocks = tokens.filter((t) => t.type !== 'space');
    let done = 0; // tokens finished for good
    if (blocks.length > 1) {
      const last = blocks[blocks.length - 1];
      done = tokens.indexOf(last);
      const previous = blocks[blocks.length - 2];
      if (previous.type === 'list' && MAYBE_ITEM.test(last.raw)) done = tokens.indexOf(previous);
    }
    if (done > 0) {
      const finished = tokens.slice(0, done);
      const fragment = renderer.render(finished);
      renderer.highlight(fragment);
      this.tail.before(fragment);
      this.committed += finished.reduce((n, t) => n + t.raw.length, 0);
    }
    const rest = tokens.slice(done);
    const fragment = renderer.render(rest);
    // A code block whose closing fence has come is finished: highlight it already.
    const last = rest.filter((t) => t.type !== 'space').pop();
    if (last && last.type === 'code' && /\n {0,3}(`{3,}|~{3,})[ \t]*$/.test(last.raw.trimEnd())) {
      renderer.highlight(fragment);
    }
    this.tail.replaceChildren(fragment);
  }
}
