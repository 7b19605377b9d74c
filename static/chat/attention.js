// Getting the reader back to a reply: a "Jump to the latest" button while they have scrolled
// up, and, when a reply finishes while the tab is in the background, a mark in the tab's
// title and (if they asked for it, in this browser) a notification.
import { pinToBottom } from './messages.js';
import { keepFocus } from './shortcuts.js';

const MARK = '✓ ';
const NOTIFY_KEY = 'chat-notify'; // this browser's choice: notifications are per browser

function wireJump(page) {
  const button = document.getElementById('jump-latest');
  if (!button) return;
  const box = page.els.messages;
  const update = () => {
    const below = box.scrollHeight - box.scrollTop - box.clientHeight;
    button.hidden = page.scroll.pinned || below < 40;
  };
  box.addEventListener('scroll', update, { passive: true });
  button.addEventListener('click', () => {
    pinToBottom(page);
    button.hidden = true;
    keepFocus(page);
  });
}

function notificationsWanted() {
  return 'Notification' in window && localStorage.getItem(NOTIFY_KEY) === 'on' && Notification.permission === 'granted';
}

function wireNotifyToggle(page) {
  const toggle = document.getElementById('notify-toggle');
  if (!toggle) return;
  if (!('Notification' in window)) {
    toggle.closest('label').hidden = true;
    return;
  }
  toggle.checked = notificationsWanted();
  toggle.addEventListener('change', async () => {
    if (!toggle.checked) {
      localStorage.removeItem(NOTIFY_KEY);
      return;
    }
    const permission = await Notification.requestPermission();
    if (permission === 'granted') {
      localStorage.setItem(NOTIFY_KEY, 'on');
    } else {
      toggle.checked = false;
      page.els.settingsStatus.textContent = page.strings.notify_denied;
    }
  });
}

function wireBackgroundEnd(page) {
  let marked = false; // a reply ended while the tab was hidden, and the tab is not seen yet
  const mark = () => {
    if (marked && !document.title.startsWith(MARK)) document.title = MARK + document.title;
  };
  // The title changes under the mark too (a rename, a written title): keep the mark on it.
  const titleEl = document.querySelector('title');
  if (titleEl) new MutationObserver(mark).observe(titleEl, { childList: true, characterData: true, subtree: true });
  page.els.messages.addEventListener('reply-end', () => {
    if (!document.hidden) return;
    marked = true;
    mark();
    if (notificationsWanted()) {
      const note = new Notification(page.strings.reply_finished, { body: page.els.title.textContent, tag: 'chat-reply' });
      note.addEventListener('click', () => {
        window.focus();
        note.close();
      });
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    marked = false;
    if (document.title.startsWith(MARK)) document.title = document.title.slice(MARK.length);
  });
}

export function wireAttention(page) {
  wireJump(page);
  wireNotifyToggle(page);
  wireBackgroundEnd(page);
}
