// Changes made in the user's other tabs and devices (GET /api/events, chat/user_events.py):
// the sidebar gains, renames, moves and loses conversations, and the open conversation shows
// messages sent elsewhere and attaches to a reply that starts elsewhere. The browser
// reconnects by itself with Last-Event-ID; after an HTTP error we reconnect, backing off.
import { showError } from './composer.js';
import { addSidebarItem, setItemTitle, setTitle, sidebarItem } from './sidebar.js';
import { showBranch } from './tree.js';

export function followUserEvents(page) {
  const url = page.app.dataset.urlApiEvents;
  if (!url) return;
  page.follow = { source: null, attempts: 0, lastEventId: '', queue: Promise.resolve() };
  connect(page, url);
}

function connect(page, url) {
  const state = page.follow;
  const target = state.lastEventId ? `${url}?last_event_id=${encodeURIComponent(state.lastEventId)}` : url;
  const source = new EventSource(target);
  state.source = source;
  const on = (type, handle) => source.addEventListener(type, (event) => {
    if (event.lastEventId) state.lastEventId = event.lastEventId;
    let data = null;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    handle(page, data);
  });
  source.addEventListener('open', () => {
    state.attempts = 0;
  });
  on('conversation', conversationChanged);
  on('conversation_deleted', conversationDeleted);
  on('message', messageChanged);
  source.addEventListener('error', () => {
    if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects
    state.attempts += 1;
    const delay = Math.min(60000, 2000 * 2 ** Math.min(state.attempts - 1, 5));
    setTimeout(() => connect(page, url), delay);
  });
}

function conversationChanged(page, conv) {
  const item = sidebarItem(page, conv.id);
  if (item) {
    setItemTitle(page, item, conv.title || '');
    page.els.list.prepend(item); // its activity moved it up, as on the server
  } else {
    addSidebarItem(page, conv, { atTop: true });
  }
  if (String(conv.id) === page.conversationId) setTitle(page, conv.title || '');
}

function conversationDeleted(page, { id }) {
  const item = sidebarItem(page, id);
  if (item) item.remove();
  page.els.sidebarEmpty.hidden = page.els.list.children.length > 0;
  if (String(id) === page.conversationId) window.location.assign(page.app.dataset.urlHome);
}

// A message of the open conversation written elsewhere: show the branch it is on (and attach
// to its reply's stream). This tab's own messages are on the page already, or about to be
// (`busy`), and a reply streaming here means no other can start in this conversation.
function messageChanged(page, m) {
  if (String(m.conversation) !== page.conversationId) return;
  page.follow.queue = page.follow.queue.then(async () => {
    if (page.busy || page.activeStream) return;
    if (page.els.messages.querySelector(`:scope > .message[data-message-id="${CSS.escape(String(m.id))}"]`)) return;
    try {
      const conv = await page.api('GET', page.url('urlApiConversation', page.conversationId));
      if (!page.busy && !page.activeStream) await showBranch(page, conv.messages);
    } catch (err) {
      showError(page, err.message);
    }
  });
}
