// The daily token quota on the chat page: once little is left, a note under the composer says
// how much, and when it resets. It asks /api/usage when the page opens and each time a reply
// ends (seen as a reply's data-status leaving "streaming"), so chat.js needs no hook for it.
import { fmt } from './util.js';

const note = document.getElementById('quota-note');
if (note) {
  watch(note);
}

function watch(note) {
  const strings = JSON.parse(document.getElementById('chat-strings').textContent);
  const messages = document.getElementById('messages');
  let pending = false;

  async function refresh() {
    if (pending) return;
    pending = true;
    try {
      const response = await fetch(note.dataset.urlUsage + '?days=1', {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!response.ok) return;
      show((await response.json()).quota);
    } catch {
      // The note is a courtesy: a failed look-up leaves it as it was.
    } finally {
      pending = false;
    }
  }

  function show(quota) {
    if (!quota || !quota.low) {
      note.hidden = true;
      return;
    }
    const time = new Date(quota.resets_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const text = quota.remaining > 0 ? strings.quota_left : strings.quota_used_up;
    note.textContent = fmt(text, { remaining: quota.remaining.toLocaleString(), total: quota.daily_tokens.toLocaleString(), time });
    note.classList.toggle('is-exhausted', quota.remaining === 0);
    note.hidden = false;
  }

  if (messages) {
    new MutationObserver((changes) => {
      const ended = changes.some(
        (c) => c.attributeName === 'data-status' && c.oldValue === 'streaming' && c.target.dataset.status !== 'streaming',
      );
      if (ended) refresh();
    }).observe(messages, { subtree: true, attributes: true, attributeFilter: ['data-status'], attributeOldValue: true });
  }
  refresh();
}
