// The sidebar's search box: the user's titles and messages holding the words typed
// (GET /api/search), in place of the conversation list while there are words. A result opens
// its conversation on the branch that holds the message, scrolled to it.
import { showError } from './composer.js';

const DELAY = 250; // ms after the last key before asking

export function wireSearch(page) {
  const form = document.getElementById('search-form');
  const input = document.getElementById('search-input');
  const results = document.getElementById('search-results');
  const empty = document.getElementById('search-empty');
  if (!form || !input || !results || !empty) return;
  let timer = 0;
  let asked = 0; // answers to older questions are dropped
  const showList = (on) => {
    page.els.list.hidden = !on;
    page.els.loadMore.hidden = !on || !page.els.loadMore.dataset.next;
    page.els.sidebarEmpty.hidden = !on || page.els.list.children.length > 0;
    results.hidden = on;
  };
  const run = async () => {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) {
      results.replaceChildren();
      empty.hidden = true;
      showList(true);
      return;
    }
    try {
      const url = `${page.app.dataset.urlApiSearch}?q=${encodeURIComponent(q)}`;
      const data = await page.api('GET', url);
      if (mine !== asked) return;
      results.replaceChildren(...data.results.map((r) => resultItem(page, r)));
      empty.hidden = data.results.length > 0;
      showList(false);
    } catch (err) {
      showError(page, err.message);
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, DELAY);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      input.value = '';
      run();
    }
  });
  results.addEventListener('click', (event) => {
    const link = event.target.closest('a.search-result');
    if (link && link.dataset.messageId) {
      event.preventDefault();
      open(page, link);
    }
  });
  showFoundMessage(page);
}

function resultItem(page, r) {
  const li = document.createElement('li');
  const link = document.createElement('a');
  link.className = 'search-result';
  link.href = page.url('urlConversation', r.conversation.id) + (r.message ? `#message-${r.message}` : '');
  if (r.message) link.dataset.messageId = r.message;
  const title = document.createElement('span');
  title.className = 'search-title';
  title.textContent = r.conversation.title || page.strings.untitled;
  const snippet = document.createElement('span');
  snippet.className = 'search-snippet';
  snippet.innerHTML = r.snippet; // escaped on the server (chat/render.py), the match in <mark>
  link.append(title, snippet);
  li.append(link);
  return li;
}

// Show the branch that holds the message, then open it there.
async function open(page, link) {
  const conversation = link.href.match(/\/c\/(\d+)\//);
  try {
    if (conversation) {
      await page.api('PATCH', page.url('urlApiConversation', conversation[1]), { current: Number(link.dataset.messageId) });
    }
  } catch (err) {
    showError(page, err.message);
    return;
  }
  window.location.assign(link.href);
}

function showFoundMessage(page) {
  const match = window.location.hash.match(/^#message-(\d+)$/);
  if (!match) return;
  const el = page.els.messages.querySelector(`:scope > .message[data-message-id="${match[1]}"]`);
  if (!el) return;
  el.classList.add('is-found');
  el.scrollIntoView({ block: 'center' });
  page.scroll.pinned = false;
}
