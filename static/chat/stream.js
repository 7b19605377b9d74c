// A reply's life on the page: its EventSource (open, delta, snapshot, end, error), reconnects,
// and the Stop call.
import { showError, updateComposer } from './composer.js';
import { following, renderFinished, updateRetryButtons } from './messages.js';
import { LiveView } from './live-view.js';
import { keepFocus } from './shortcuts.js';

export const UNFINISHED = new Set(['pending', 'streaming']);

// One EventSource per reply. The browser reconnects by itself (with Last-Event-ID) after a
// dropped connection; if it gives up (an HTTP error), we open a new one, backing off.
export function startStream(page, el, streamUrl) {
  const body = el.querySelector('.message-body');
  const stream = {
    el,
    body,
    url: streamUrl,
    source: null,
    live: null, // the formatted view that deltas extend (live-view.js)
    done: false,
    attempts: 0,
    lastEventId: '',
    retryTimer: 0,
    reconnectTimer: 0,
  };
  el.classList.add('is-streaming');
  el.dataset.status = el.dataset.status || 'streaming';
  body.classList.add('is-live');
  const shown = body.textContent; // the text so far, as the server sent it with the page
  stream.live = new LiveView(body);
  stream.live.append(shown);
  page.activeStream = stream;
  el.dispatchEvent(new CustomEvent('reply-start', { bubbles: true })); // announce.js
  updateRetryButtons(page);
  updateComposer(page);
  connect(page, stream);
  return stream;
}

function connect(page, stream) {
  let target = stream.url;
  if (stream.lastEventId) {
    target += `${target.includes('?') ? '&' : '?'}last_event_id=${encodeURIComponent(stream.lastEventId)}`;
  }
  const source = new EventSource(target);
  stream.source = source;
  const data = (event) => {
    if (event.lastEventId) stream.lastEventId = event.lastEventId;
    try {
      return JSON.parse(event.data);
    } catch {
      return null;
    }
  };
  source.addEventListener('open', () => {
    stream.attempts = 0;
    setReconnecting(page, stream, false);
  });
  source.addEventListener('delta', (event) => {
    const d = data(event);
    if (!d) return;
    setReconnecting(page, stream, false);
    following(page, () => showText(stream, d, false));
  });
  source.addEventListener('snapshot', (event) => {
    const d = data(event);
    if (!d) return;
    setReconnecting(page, stream, false);
    following(page, () => showText(stream, d, true));
  });
  source.addEventListener('end', (event) => {
    const d = data(event);
    if (d) finish(page, stream, d);
  });
  source.addEventListener('error', () => {
    if (stream.done) return;
    setReconnecting(page, stream, true);
    if (source.readyState === EventSource.CLOSED) {
      stream.attempts += 1;
      const delay = Math.min(30000, 1000 * 2 ** Math.min(stream.attempts - 1, 5));
      clearTimeout(stream.retryTimer);
      stream.retryTimer = setTimeout(() => {
        if (!stream.done) connect(page, stream);
      }, delay);
    }
  });
}

function showText(stream, d, replace) {
  if (replace) {
    stream.live.replace('');
    stream.el.querySelector('.thinking-text').textContent = '';
  }
  stream.live.append(d.text || ''); // markdown, sanitized as the server does (markdown.js)
  if (d.reasoning) {
    const thinking = stream.el.querySelector('.thinking');
    thinking.hidden = false;
    thinking.querySelector('.thinking-text').append(document.createTextNode(d.reasoning));
  }
}

function setReconnecting(page, stream, on) {
  clearTimeout(stream.reconnectTimer);
  const status = stream.el.querySelector('.message-status');
  if (!on) {
    stream.el.classList.remove('is-reconnecting');
    if (status.textContent === page.strings.reconnecting) status.textContent = '';
    return;
  }
  // A short grace period: a routine reconnect should not flash a warning.
  stream.reconnectTimer = setTimeout(() => {
    if (stream.done) return;
    stream.el.classList.add('is-reconnecting');
    status.textContent = page.strings.reconnecting;
  }, 800);
}

function finish(page, stream, m) {
  if (stream.done) return;
  stream.done = true;
  clearTimeout(stream.retryTimer);
  clearTimeout(stream.reconnectTimer);
  if (stream.source) stream.source.close();
  stream.live.stop(); // the server's HTML replaces the live view
  following(page, () => renderFinished(page, stream.el, m));
  // For the parts of the page that follow replies (titles.js, ...).
  stream.el.dispatchEvent(new CustomEvent('reply-end', { bubbles: true, detail: m }));
  if (page.activeStream === stream) {
    page.activeStream = null;
    updateComposer(page);
    keepFocus(page); // from a Stop button that is now hidden, say
  }
}

export async function stop(page) {
  const stream = page.activeStream;
  if (!stream || page.els.stop.disabled) return; // a stop already asked
  page.els.stop.disabled = true;
  try {
    const reply = await page.api('POST', page.url('urlApiStop', stream.el.dataset.messageId));
    if (reply && !UNFINISHED.has(reply.status)) finish(page, stream, reply);
  } catch (err) {
    showError(page, err.message);
  } finally {
    page.els.stop.disabled = false;
  }
}
