// The conversation list: adding a new conversation, moving a busy one to the top, loading
// more, renaming and deleting; and the page title that follows the current conversation's.
import { showError } from './composer.js';
import { clone, fmt } from './util.js';

export function setTitle(page, title) {
  const shown = title || page.strings.untitled;
  page.els.title.textContent = shown;
  document.title = page.titleSuffix ? `${shown} · ${page.titleSuffix}` : shown;
}

export function sidebarItem(page, id) {
  return page.els.list.querySelector(`.conversation-item[data-conversation-id="${CSS.escape(String(id))}"]`);
}

export function setItemTitle(page, item, title) {
  item.dataset.title = title;
  item.querySelector('.conversation-link').textContent = title || page.strings.untitled;
}

// A conversation's new title, wherever the page shows it (its item, and the header and the
// tab's title if it is the current one).
export function showRenamed(page, id, title) {
  const item = sidebarItem(page, id);
  if (item) setItemTitle(page, item, title);
  if (String(id) === page.conversationId) setTitle(page, title);
}

// Adds the conversation's item unless it is there (another tab's event may have added it
// first), and marks it current if it is this page's conversation.
export function addSidebarItem(page, conv, { atTop }) {
  const { els } = page;
  let item = sidebarItem(page, conv.id);
  if (!item) {
    item = clone('tpl-conversation-item');
    item.dataset.conversationId = conv.id;
    item.querySelector('.conversation-link').href = page.url('urlConversation', conv.id);
    setItemTitle(page, item, conv.title || '');
    if (atTop) els.list.prepend(item);
    else els.list.append(item);
  }
  if (String(conv.id) === page.conversationId) {
    for (const other of els.list.querySelectorAll('.is-current')) {
      other.classList.remove('is-current');
      other.querySelector('.conversation-link').removeAttribute('aria-current');
    }
    item.classList.add('is-current');
    item.querySelector('.conversation-link').setAttribute('aria-current', 'page');
  }
  els.sidebarEmpty.hidden = true;
}

// A new message moves the conversation to the top, and names it if it had no name (the
// server does the same: the first 60 characters of the first message, spaces collapsed).
export function conversationTouched(page, content) {
  const item = sidebarItem(page, page.conversationId);
  if (!item) return;
  page.els.list.prepend(item);
  if (!item.dataset.title && content) {
    const title = Array.from(content.trim().split(/\s+/).join(' ')).slice(0, 60).join('');
    setItemTitle(page, item, title);
    setTitle(page, title);
  }
}

async function loadMore(page) {
  const button = page.els.loadMore;
  const cursor = button.dataset.next;
  if (!cursor) return;
  button.disabled = true;
  try {
    const result = await page.api('GET', `${page.app.dataset.urlApiConversations}?cursor=${encodeURIComponent(cursor)}`);
    for (const conv of result.conversations) addSidebarItem(page, conv, { atTop: false });
    button.dataset.next = result.next || '';
    button.hidden = !result.next;
  } catch (err) {
    showError(page, err.message);
  } finally {
    button.disabled = false;
  }
}

async function rename(page, item, button) {
  const title = window.prompt(page.strings.rename_prompt, item.dataset.title || '');
  if (title === null) return;
  button.disabled = true;
  try {
    const conv = await page.api('PATCH', page.url('urlApiConversation', item.dataset.conversationId), { title: title.trim() });
    showRenamed(page, conv.id, conv.title);
  } catch (err) {
    showError(page, err.message);
  } finally {
    button.disabled = false;
  }
}

async function remove(page, item, button) {
  const title = item.dataset.title || page.strings.untitled;
  if (!window.confirm(fmt(page.strings.delete_confirm, { title }))) return;
  button.disabled = true;
  try {
    await page.api('DELETE', page.url('urlApiConversation', item.dataset.conversationId));
    const wasCurrent = item.dataset.conversationId === page.conversationId;
    item.remove();
    page.els.sidebarEmpty.hidden = page.els.list.children.length > 0;
    if (wasCurrent) window.location.assign(page.app.dataset.urlHome);
  } catch (err) {
    showError(page, err.message);
    button.disabled = false;
  }
}

export function wireSidebar(page) {
  const { els } = page;
  els.loadMore.addEventListener('click', () => loadMore(page));
  els.list.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    const item = button && button.closest('.conversation-item');
    if (!item) return;
    if (button.classList.contains('rename-button')) rename(page, item, button);
    else if (button.classList.contains('delete-button')) remove(page, item, button);
  });
}
