// The message list: building messages, showing a finished reply, the Retry and Copy buttons,
// and keeping the newest text in view.
import { markContext } from './context.js';
import { clone, fmt } from './util.js';

export function userMessage(message) {
  const el = clone('tpl-user-message');
  el.dataset.messageId = message.id;
  el.querySelector('.message-body').textContent = message.content;
  return el;
}

export function replyElement(reply) {
  const el = clone('tpl-reply');
  el.dataset.messageId = reply.id;
  el.dataset.status = reply.status;
  const model = el.querySelector('.message-model');
  model.dataset.model = reply.model || '';
  model.textContent = reply.model || ''; // its label once message-tools.js sees it
  el.querySelector('.message-body').textContent = reply.content || '';
  return el;
}

// Every finished reply can be regenerated (tree.js): "Regenerate" on a complete one, "Retry"
// on one that failed or stopped where retrying can help.
export function updateRetryButtons(page) {
  for (const el of page.els.messages.querySelectorAll('.from-assistant')) {
    const button = el.querySelector('.retry-button');
    const finished = !['pending', 'streaming'].includes(el.dataset.status);
    const complete = el.dataset.status === 'complete';
    button.hidden = !(finished && (complete || el.dataset.retryable === 'true'));
    button.textContent = complete ? page.strings.regenerate : page.strings.retry;
    button.disabled = false;
  }
}

// Show a finished reply: an `end` event's data, or a message from the API.
export function renderFinished(page, el, m) {
  const { strings } = page;
  el.dataset.status = m.status;
  el.dataset.retryable = String(Boolean(m.retryable));
  el.classList.remove('is-streaming', 'is-reconnecting');
  const body = el.querySelector('.message-body');
  body.classList.remove('is-live');
  if (m.html) {
    body.innerHTML = m.html; // rendered and sanitized on the server
  } else {
    body.textContent = m.content || '';
  }
  if (m.reasoning) {
    el.querySelector('.thinking-text').textContent = m.reasoning;
    el.querySelector('.thinking').hidden = false;
  }
  const error = el.querySelector('.message-error');
  const failed = m.status === 'error' || Boolean(m.error);
  // The site's own errors (a server that stopped, ...) read in the page's language.
  const explained = strings.explanations[m.error_kind] || m.error;
  error.textContent = failed ? explained || strings.error : '';
  error.hidden = !failed;
  const status = { stopped: strings.stopped, interrupted: strings.interrupted }[m.status];
  el.querySelector('.message-status').textContent = status || '';
  const tokens = m.usage && m.usage.output_tokens;
  el.querySelector('.message-usage').textContent = tokens ? fmt(strings.tokens, { count: tokens }) : '';
  addCopyButtons(page, body);
  updateRetryButtons(page);
  el.dataset.contextFrom = m.context_from ?? '';
  markContext(page);
}

export function addCopyButtons(page, root) {
  for (const block of root.querySelectorAll('div.codehilite')) {
    if (block.querySelector(':scope > .copy-button')) continue;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-button';
    button.textContent = page.strings.copy;
    block.prepend(button);
  }
}

export async function copyCode(page, button) {
  const pre = button.parentElement.querySelector('pre');
  await copyFrom(page, button, pre ? pre.textContent : '');
}

// Copy `text`, and say on `button` whether it worked.
export async function copyFrom(page, button, text) {
  const { strings } = page;
  const label = button.textContent;
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch {
    ok = false;
  }
  if (!ok) {
    // Plain-HTTP deployments have no async clipboard; a hidden textarea still works.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.append(area);
    area.select();
    ok = document.execCommand('copy');
    area.remove();
  }
  button.textContent = ok ? strings.copied : strings.copy_failed;
  button.classList.toggle('is-done', ok);
  setTimeout(() => {
    button.textContent = label;
    button.classList.remove('is-done');
  }, 1500);
}

// --- Scrolling ----------------------------------------------------------------------------
// Keep the newest text in view while the reader is at the bottom; leave them be once they
// scroll up. Scroll at most once a frame, and read the layout only on scroll events, so a
// fast stream does not force a layout per delta.
function nearBottom(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
}

export function watchScroll(page) {
  const box = page.els.messages;
  box.addEventListener('scroll', () => {
    page.scroll.pinned = nearBottom(box);
  }, { passive: true });
}

export function scrollToBottom(page) {
  page.els.messages.scrollTop = page.els.messages.scrollHeight;
}

// Follow the text again from here on, as after sending a message.
export function pinToBottom(page) {
  page.scroll.pinned = true;
  scrollToBottom(page);
}

// Apply a change to the messages, then scroll to keep up with it if the reader is following.
export function following(page, change) {
  const { scroll } = page;
  change();
  if (!scroll.pinned || scroll.queued) return;
  scroll.queued = true;
  requestAnimationFrame(() => {
    scroll.queued = false;
    if (scroll.pinned) scrollToBottom(page); // unless the reader scrolled up meanwhile
  });
}
