// What every message offers besides its text: the time it was written (shown on hover, in
// the reader's time zone and language), the model's label rather than its id, and a button
// that copies the whole message. Messages added later (sent, streamed, retried) get the same
// through a MutationObserver, so the modules that make them need not know.
import { copyFrom } from './messages.js';

function formatter(lang, options) {
  try {
    return new Intl.DateTimeFormat(lang, options);
  } catch {
    return new Intl.DateTimeFormat(undefined, options);
  }
}

export function wireMessageTools(page) {
  const { els, strings } = page;
  const lang = document.documentElement.lang || undefined;
  const full = formatter(lang, { dateStyle: 'full', timeStyle: 'short' });
  const short = formatter(lang, { dateStyle: 'medium', timeStyle: 'short' });
  const labels = strings.model_labels || {};

  function decorate(root) {
    for (const time of root.querySelectorAll('time.message-time:not([title])')) {
      // A message made in this page has no stored time yet: it was written just now.
      if (!time.dateTime) time.dateTime = new Date().toISOString();
      const date = new Date(time.dateTime);
      if (Number.isNaN(date.getTime())) continue;
      time.textContent = short.format(date);
      time.title = full.format(date);
    }
    for (const model of root.querySelectorAll('.message-model[data-model]')) {
      const label = labels[model.dataset.model];
      if (label && model.textContent !== label) {
        model.textContent = label;
        model.title = model.dataset.model;
      }
    }
  }

  decorate(els.messages);
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node instanceof Element) decorate(node.matches('.message') ? node : node.parentElement || node);
      }
    }
  }).observe(els.messages, { childList: true });

  els.messages.addEventListener('click', (event) => {
    const button = event.target.closest('.copy-message-button');
    if (!button) return;
    const body = button.closest('.message').querySelector('.message-body');
    // The text as the page shows it: paragraphs, list items and code, without the markup.
    copyFrom(page, button, body ? body.innerText.trim() : '');
  });
}
