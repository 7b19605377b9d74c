// The chat page: sidebar, composer and live replies. Server values come from data-* attributes
// on #chat-app and from the #chat-strings JSON block; everything else goes through /api/.
// This entry builds the page's state, sends messages and wires events to the other modules.
import { createApi } from './api.js';
import { wireAnnouncer } from './announce.js';
import { wireAttention } from './attention.js';
import { wireDrawer } from './drawer.js';
import { hideError, modelSaved, showError, updateComposer, wireComposer } from './composer.js';
import {
  addCopyButtons,
  copyCode,
  pinToBottom,
  replyElement,
  scrollToBottom,
  updateRetryButtons,
  userMessage,
  watchScroll,
} from './messages.js';
import { addSidebarItem, conversationTouched, setTitle, wireSidebar } from './sidebar.js';
import { startStream, stop, UNFINISHED } from './stream.js';
import { followUserEvents } from './follow.js';
import { wireMessageTools } from './message-tools.js';
import { wireSearch } from './search.js';
import { showExportLinks, wireImport } from './transfer.js';
import { keepFocus, wireShortcuts } from './shortcuts.js';
import { wireSystemPromptCounter } from './system-prompt.js';
import { adaptHints, enterSends } from './touch.js';
import { treeChanged, wireTree } from './tree.js';
import { charCount, fmt } from './util.js';

const SENTINEL = '987654321'; // the id placeholder in the data-url-* templates

const app = document.getElementById('chat-app');
if (app) {
  start(app);
}

function start(app) {
  const strings = JSON.parse(document.getElementById('chat-strings').textContent);
  const byId = (id) => document.getElementById(id);
  // Everything the modules share, for this page only. Every field is declared here; the
  // modules change the values, never the shape.
  const page = {
    app, // #chat-app: the server's values in its data-* attributes
    strings, // the page's translated texts (#chat-strings)
    els: { // the page's elements
      list: byId('conversation-list'),
      sidebarEmpty: byId('sidebar-empty'),
      loadMore: byId('load-more'),
      title: byId('conversation-title'),
      picker: byId('model-picker'),
      systemPrompt: byId('system-prompt'),
      saveSettings: byId('save-settings'),
      settingsStatus: byId('settings-status'),
      messages: byId('messages'),
      emptyState: byId('empty-state'),
      composer: byId('composer'),
      input: byId('composer-input'),
      error: byId('composer-error'),
      counter: byId('char-counter'),
      stop: byId('stop-button'),
      send: byId('send-button'),
    },
    api: createApi(strings), // api(method, path, body): JSON in and out, CSRF included
    url: (name, id) => app.dataset[name].replace(SENTINEL, String(id)), // a data-url-* for an id
    maxChars: Number(app.dataset.maxChars) || Infinity, // the longest message, in code points
    // The site's name after the conversation's in the document's title.
    titleSuffix: document.title.includes(' · ') ? document.title.split(' · ').pop() : '',
    conversationId: app.dataset.conversationId || '', // '' until the first message creates it
    activeStream: null, // the reply streaming in this conversation, if any (stream.js)
    tree: null, // the page's copy of the conversation's tree of messages (tree.js)
    follow: null, // the stream of changes made in the user's other tabs (follow.js)
    busy: false, // a send or retry request is in flight
    modelChange: null, // the picker's change being saved: a promise of whether it was (composer.js)
    // Keeping the newest text in view (messages.js): `pinned` while the reader is at the
    // bottom, `queued` while a scroll waits for the next animation frame.
    scroll: { pinned: true, queued: false },
  };
  Object.seal(page); // a module adding a field throws (modules are strict code)
  const { els } = page;

  async function send() {
    const content = els.input.value;
    if (!content.trim() || page.busy || page.activeStream) return;
    if (charCount(content) > page.maxChars) {
      showError(page, fmt(strings.too_long, { length: charCount(content), limit: page.maxChars }), 'length');
      return;
    }
    page.busy = true;
    updateComposer(page);
    try {
      if (!(await modelSaved(page))) return; // the typed text stays; the error line says why
      hideError(page);
      let sent;
      if (page.conversationId) {
        sent = await page.api('POST', page.url('urlApiMessages', page.conversationId), { content });
      } else {
        // A new conversation and its first message are made together, or (refused) not at all.
        sent = await page.api('POST', app.dataset.urlApiConversations, {
          model: els.picker.value,
          system_prompt: els.systemPrompt.value,
          content,
        });
        page.conversationId = String(sent.conversation.id);
        app.dataset.conversationId = page.conversationId;
        history.replaceState(null, '', page.url('urlConversation', sent.conversation.id));
        addSidebarItem(page, sent.conversation, { atTop: true });
        showExportLinks(page);
        setTitle(page, sent.conversation.title);
      }
      els.input.value = '';
      els.emptyState.hidden = true;
      els.messages.append(userMessage(sent.message));
      const reply = replyElement(sent.reply);
      els.messages.append(reply);
      pinToBottom(page);
      conversationTouched(page, content);
      startStream(page, reply, sent.stream_url);
      treeChanged(page);
    } catch (err) {
      showError(page, err.message); // the typed text stays in the textarea
    } finally {
      page.busy = false;
      updateComposer(page);
      keepFocus(page);
    }
  }

  watchScroll(page);
  wireDrawer(app);
  wireShortcuts(page, { stop: () => stop(page) });
  wireMessageTools(page);
  wireAttention(page);
  wireAnnouncer(page);
  adaptHints(page);
  wireComposer(page, { send, stop: () => stop(page) });
  wireSystemPromptCounter(page); // after wireComposer: its input listener runs second
  wireSidebar(page);
  els.messages.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    if (button.classList.contains('copy-button')) copyCode(page, button);
  });
  wireTree(page); // versions: the switchers, Edit and Regenerate
  followUserEvents(page);
  wireImport(page);

  // A reply still being written when the page loaded continues where it is.
  for (const el of els.messages.querySelectorAll('.from-assistant')) {
    if (UNFINISHED.has(el.dataset.status) && el.dataset.streamUrl && !page.activeStream) {
      startStream(page, el, el.dataset.streamUrl);
    } else {
      addCopyButtons(page, el.querySelector('.message-body'));
    }
  }
  updateRetryButtons(page);
  updateComposer(page);
  scrollToBottom(page);
  wireSearch(page); // after the scroll: a search result scrolls to its message
  // Not on a touch screen: focus there would open the keyboard over the page.
  if (enterSends()) els.input.focus();
}
