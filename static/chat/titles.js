// A conversation's title written by a model after its first exchange (chat/replies/
// titles.py) shows up here without a reload: once the first reply has ended, the page asks
// for the conversation a few times, backing off, until its title no longer comes from the
// first message. (Other tabs see it when they next load the list.)
import { showRenamed } from './sidebar.js';

const DELAYS_MS = [1000, 2000, 4000, 8000, 15000];

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function followTitle(page, id) {
  for (const delay of DELAYS_MS) {
    await sleep(delay);
    if (page.conversationId !== id) return; // the page moved on
    let conv;
    try {
      conv = await page.api('GET', page.url('urlApiConversation', id));
    } catch {
      return; // a title is not worth an error message
    }
    if (conv.title_source !== 'first_message') {
      page.app.dataset.titleSource = conv.title_source;
      if (conv.title_source === 'model') showRenamed(page, id, conv.title);
      return;
    }
  }
}

export function wireTitles(page) {
  page.els.messages.addEventListener('reply-end', (event) => {
    if (!event.detail || event.detail.status !== 'complete') return;
    if ((page.app.dataset.titleSource || 'first_message') !== 'first_message') return;
    if (page.els.messages.querySelectorAll('.from-assistant').length !== 1) return; // not the first exchange
    followTitle(page, page.conversationId);
  });
}
