'use strict';
// The chat page: sidebar, composer and live replies. Server values come from data-* attributes
// on #chat-app and from the #chat-strings JSON block; everything else goes through /api/.
{
  const app = document.getElementById('chat-app');
  if (app) {
    start(app);
  }

  function start(app) {
    const strings = JSON.parse(document.getElementById('chat-strings').textContent);
    const SENTINEL = '987654321'; // the id placeholder in the data-url-* templates
    const RETRYABLE = new Set(['error', 'interrupted', 'stopped']);
    const UNFINISHED = new Set(['pending', 'streaming']);
    const MAX_STAMPS = 200;
    const maxChars = Number(app.dataset.maxChars) || Infinity;
    const byId = (id) => document.getElementById(id);
    const els = {
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
    };
    const titleSuffix = document.title.includes(' · ') ? document.title.split(' · ').pop() : '';
    let conversationId = app.dataset.conversationId || '';
    let activeStream = null; // the reply streaming in this conversation, if any
    let busy = false; // a send or retry request is in flight

    // --- Helpers ----------------------------------------------------------------------------
    const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ''));
    const url = (name, id) => app.dataset[name].replace(SENTINEL, String(id));
    const charCount = (text) => Array.from(text).length; // code points, as the server counts

    function csrfToken() {
      const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
      if (match) return decodeURIComponent(match[1]);
      const field = document.querySelector('input[name="csrfmiddlewaretoken"]');
      return field ? field.value : '';
    }

    class ApiError extends Error {
      constructor(message, status) {
        super(message);
        this.status = status;
      }
    }

    async function api(method, path, body) {
      const headers = { Accept: 'application/json', 'X-CSRFToken': csrfToken() };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      let response;
      try {
        response = await fetch(path, {
          method,
          headers,
          credentials: 'same-origin',
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch {
        throw new ApiError(strings.network_error, 0);
      }
      if (response.status === 204) return null;
      const data = await response.json().catch(() => null);
      if (!response.ok) {
        const message = data && typeof data.error === 'string' ? data.error : fmt(strings.server_error, { status: response.status });
        throw new ApiError(message, response.status);
      }
      return data;
    }

    function clone(templateId) {
      return byId(templateId).content.firstElementChild.cloneNode(true);
    }

    function showError(message) {
      els.error.textContent = message;
      els.error.hidden = false;
    }

    function hideError() {
      els.error.hidden = true;
      els.error.textContent = '';
    }

    function nearBottom() {
      const box = els.messages;
      return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    }

    function scrollToBottom() {
      els.messages.scrollTop = els.messages.scrollHeight;
    }

    // Keep the newest text in view while the reader is at the bottom; leave them be once they
    // scroll up. Scroll at most once a frame, and read the layout only on scroll events, so a
    // fast stream does not force a layout per delta.
    let pinned = true;
    let scrollQueued = false;
    els.messages.addEventListener('scroll', () => {
      pinned = nearBottom();
    }, { passive: true });

    function following(change) {
      change();
      if (!pinned || scrollQueued) return;
      scrollQueued = true;
      requestAnimationFrame(() => {
        scrollQueued = false;
        if (pinned) scrollToBottom(); // unless the reader scrolled up meanwhile
      });
    }

    function setTitle(title) {
      const shown = title || strings.untitled;
      els.title.textContent = shown;
      document.title = titleSuffix ? `${shown} · ${titleSuffix}` : shown;
    }

    // --- Composer ---------------------------------------------------------------------------
    function updateComposer() {
      const streaming = activeStream !== null;
      const length = charCount(els.input.value);
      const over = length > maxChars;
      els.input.disabled = streaming || busy;
      els.send.disabled = streaming || busy || over || !els.input.value.trim();
      els.stop.hidden = !streaming;
      els.composer.classList.toggle('is-streaming', streaming);
      els.counter.classList.toggle('is-over', over);
      if (over) {
        els.counter.textContent = fmt(strings.too_long, { length, limit: maxChars });
      } else if (length > maxChars * 0.8) {
        els.counter.textContent = fmt(strings.counter, { length, limit: maxChars });
      } else {
        els.counter.textContent = '';
      }
    }

    async function send() {
      const content = els.input.value;
      if (!content.trim() || busy || activeStream) return;
      if (charCount(content) > maxChars) {
        showError(fmt(strings.too_long, { length: charCount(content), limit: maxChars }));
        return;
      }
      busy = true;
      hideError();
      updateComposer();
      try {
        if (!conversationId) {
          const conv = await api('POST', app.dataset.urlApiConversations, {
            model: els.picker.value,
            system_prompt: els.systemPrompt.value,
          });
          conversationId = String(conv.id);
          app.dataset.conversationId = conversationId;
          history.replaceState(null, '', url('urlConversation', conv.id));
          addSidebarItem(conv, { atTop: true });
        }
        const sent = await api('POST', url('urlApiMessages', conversationId), { content });
        els.input.value = '';
        els.emptyState.hidden = true;
        els.messages.append(userMessage(sent.message));
        const reply = replyElement(sent.reply);
        els.messages.append(reply);
        pinned = true;
        scrollToBottom();
        conversationTouched(content);
        startStream(reply, sent.stream_url);
      } catch (err) {
        showError(err.message); // the typed text stays in the textarea
      } finally {
        busy = false;
        updateComposer();
        if (!activeStream) els.input.focus();
      }
    }

    // --- Messages ---------------------------------------------------------------------------
    function userMessage(message) {
      const el = clone('tpl-user-message');
      el.dataset.messageId = message.id;
      el.querySelector('.message-body').textContent = message.content;
      return el;
    }

    function replyElement(reply) {
      const el = clone('tpl-reply');
      el.dataset.messageId = reply.id;
      el.dataset.status = reply.status;
      el.querySelector('.message-model').textContent = reply.model || '';
      el.querySelector('.message-body').textContent = reply.content || '';
      return el;
    }

    function updateRetryButtons() {
      const last = els.messages.lastElementChild;
      for (const el of els.messages.querySelectorAll('.from-assistant')) {
        const button = el.querySelector('.retry-button');
        button.hidden = !(el === last && RETRYABLE.has(el.dataset.status));
        button.disabled = false;
      }
    }

    // Show a finished reply: an `end` event's data, or a message from the API.
    function renderFinished(el, m) {
      el.dataset.status = m.status;
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
      error.textContent = failed ? m.error || strings.error : '';
      error.hidden = !failed;
      const status = { stopped: strings.stopped, interrupted: strings.interrupted }[m.status];
      el.querySelector('.message-status').textContent = status || '';
      const tokens = m.usage && m.usage.output_tokens;
      el.querySelector('.message-usage').textContent = tokens ? fmt(strings.tokens, { count: tokens }) : '';
      addCopyButtons(body);
      updateRetryButtons();
    }

    function addCopyButtons(root) {
      for (const block of root.querySelectorAll('div.codehilite')) {
        if (block.querySelector(':scope > .copy-button')) continue;
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'copy-button';
        button.textContent = strings.copy;
        block.prepend(button);
      }
    }

    async function copyCode(button) {
      const pre = button.parentElement.querySelector('pre');
      const text = pre ? pre.textContent : '';
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
        button.textContent = strings.copy;
        button.classList.remove('is-done');
      }, 1500);
    }

    // --- Streaming --------------------------------------------------------------------------
    // One EventSource per reply. The browser reconnects by itself (with Last-Event-ID) after a
    // dropped connection; if it gives up (an HTTP error), we open a new one, backing off.
    function startStream(el, streamUrl) {
      const body = el.querySelector('.message-body');
      const stream = {
        el,
        body,
        url: streamUrl,
        source: null,
        node: null, // the text node that deltas extend
        done: false,
        attempts: 0,
        lastEventId: '',
        retryTimer: 0,
        reconnectTimer: 0,
        times: [],
      };
      el.classList.add('is-streaming');
      el.dataset.status = el.dataset.status || 'streaming';
      body.classList.add('is-live');
      body.textContent = body.textContent; // one plain text node, whatever was there
      stream.node = body.firstChild;
      activeStream = stream;
      updateRetryButtons();
      updateComposer();
      connect(stream);
      return stream;
    }

    function connect(stream) {
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
        setReconnecting(stream, false);
      });
      source.addEventListener('delta', (event) => {
        const d = data(event);
        if (!d) return;
        // Arrival times (performance.now) of the first deltas, for tests and diagnostics.
        stream.el.dataset.deltaCount = String(Number(stream.el.dataset.deltaCount || 0) + 1);
        if (stream.times.length < MAX_STAMPS) {
          stream.times.push(performance.now().toFixed(1));
          stream.el.dataset.deltaTimes = stream.times.join(',');
        }
        setReconnecting(stream, false);
        following(() => showText(stream, d, false));
      });
      source.addEventListener('snapshot', (event) => {
        const d = data(event);
        if (!d) return;
        stream.el.dataset.snapshots = String(Number(stream.el.dataset.snapshots || 0) + 1);
        setReconnecting(stream, false);
        following(() => showText(stream, d, true));
      });
      source.addEventListener('end', (event) => {
        const d = data(event);
        if (d) finish(stream, d);
      });
      source.addEventListener('error', () => {
        if (stream.done) return;
        setReconnecting(stream, true);
        if (source.readyState === EventSource.CLOSED) {
          stream.attempts += 1;
          const delay = Math.min(30000, 1000 * 2 ** Math.min(stream.attempts - 1, 5));
          clearTimeout(stream.retryTimer);
          stream.retryTimer = setTimeout(() => {
            if (!stream.done) connect(stream);
          }, delay);
        }
      });
    }

    function showText(stream, d, replace) {
      if (replace) {
        stream.body.textContent = '';
        stream.node = null;
        stream.el.querySelector('.thinking-text').textContent = '';
      }
      if (d.text) {
        if (!stream.node || stream.node.parentNode !== stream.body) {
          stream.node = document.createTextNode('');
          stream.body.append(stream.node);
        }
        stream.node.appendData(d.text); // text, never HTML
        if (!stream.el.dataset.firstTextAt) {
          stream.el.dataset.firstTextAt = performance.now().toFixed(1);
        }
      }
      if (d.reasoning) {
        const thinking = stream.el.querySelector('.thinking');
        thinking.hidden = false;
        thinking.querySelector('.thinking-text').append(document.createTextNode(d.reasoning));
      }
    }

    function setReconnecting(stream, on) {
      clearTimeout(stream.reconnectTimer);
      const status = stream.el.querySelector('.message-status');
      if (!on) {
        stream.el.classList.remove('is-reconnecting');
        if (status.textContent === strings.reconnecting) status.textContent = '';
        return;
      }
      // A short grace period: a routine reconnect should not flash a warning.
      stream.reconnectTimer = setTimeout(() => {
        if (stream.done) return;
        stream.el.classList.add('is-reconnecting');
        status.textContent = strings.reconnecting;
      }, 800);
    }

    function finish(stream, m) {
      if (stream.done) return;
      stream.done = true;
      clearTimeout(stream.retryTimer);
      clearTimeout(stream.reconnectTimer);
      if (stream.source) stream.source.close();
      stream.el.dataset.endAt = performance.now().toFixed(1);
      following(() => renderFinished(stream.el, m));
      if (activeStream === stream) {
        activeStream = null;
        updateComposer();
        els.input.focus();
      }
    }

    async function stop() {
      const stream = activeStream;
      if (!stream) return;
      els.stop.disabled = true;
      try {
        const reply = await api('POST', url('urlApiStop', stream.el.dataset.messageId));
        if (reply && !UNFINISHED.has(reply.status)) finish(stream, reply);
      } catch (err) {
        showError(err.message);
      } finally {
        els.stop.disabled = false;
      }
    }

    async function retry(el, button) {
      if (activeStream || busy) return;
      button.disabled = true;
      busy = true;
      hideError();
      updateComposer();
      try {
        const res = await api('POST', url('urlApiRegenerate', el.dataset.messageId));
        const fresh = replyElement(res.reply);
        el.replaceWith(fresh);
        conversationTouched('');
        startStream(fresh, res.stream_url);
      } catch (err) {
        showError(err.message);
        button.disabled = false;
      } finally {
        busy = false;
        updateComposer();
      }
    }

    // --- Sidebar ----------------------------------------------------------------------------
    function itemFor(id) {
      return els.list.querySelector(`.conversation-item[data-conversation-id="${CSS.escape(String(id))}"]`);
    }

    function setItemTitle(item, title) {
      item.dataset.title = title;
      item.querySelector('.conversation-link').textContent = title || strings.untitled;
    }

    function addSidebarItem(conv, { atTop }) {
      if (itemFor(conv.id)) return;
      const item = clone('tpl-conversation-item');
      item.dataset.conversationId = conv.id;
      item.querySelector('.conversation-link').href = url('urlConversation', conv.id);
      setItemTitle(item, conv.title || '');
      if (String(conv.id) === conversationId) {
        for (const other of els.list.querySelectorAll('.is-current')) other.classList.remove('is-current');
        item.classList.add('is-current');
        item.querySelector('.conversation-link').setAttribute('aria-current', 'page');
      }
      if (atTop) els.list.prepend(item);
      else els.list.append(item);
      els.sidebarEmpty.hidden = true;
    }

    // A new message moves the conversation to the top, and names it if it had no name (the
    // server does the same: the first 60 characters of the first message, spaces collapsed).
    function conversationTouched(content) {
      const item = itemFor(conversationId);
      if (!item) return;
      els.list.prepend(item);
      if (!item.dataset.title && content) {
        const title = Array.from(content.trim().split(/\s+/).join(' ')).slice(0, 60).join('');
        setItemTitle(item, title);
        setTitle(title);
      }
    }

    async function loadMore() {
      const cursor = els.loadMore.dataset.next;
      if (!cursor) return;
      els.loadMore.disabled = true;
      try {
        const page = await api('GET', `${app.dataset.urlApiConversations}?cursor=${encodeURIComponent(cursor)}`);
        for (const conv of page.conversations) addSidebarItem(conv, { atTop: false });
        els.loadMore.dataset.next = page.next || '';
        els.loadMore.hidden = !page.next;
      } catch (err) {
        showError(err.message);
      } finally {
        els.loadMore.disabled = false;
      }
    }

    async function rename(item, button) {
      const title = window.prompt(strings.rename_prompt, item.dataset.title || '');
      if (title === null) return;
      button.disabled = true;
      try {
        const conv = await api('PATCH', url('urlApiConversation', item.dataset.conversationId), { title: title.trim() });
        setItemTitle(item, conv.title);
        if (String(conv.id) === conversationId) setTitle(conv.title);
      } catch (err) {
        showError(err.message);
      } finally {
        button.disabled = false;
      }
    }

    async function remove(item, button) {
      const title = item.dataset.title || strings.untitled;
      if (!window.confirm(fmt(strings.delete_confirm, { title }))) return;
      button.disabled = true;
      try {
        await api('DELETE', url('urlApiConversation', item.dataset.conversationId));
        const wasCurrent = item.dataset.conversationId === conversationId;
        item.remove();
        els.sidebarEmpty.hidden = els.list.children.length > 0;
        if (wasCurrent) window.location.assign(app.dataset.urlHome);
      } catch (err) {
        showError(err.message);
        button.disabled = false;
      }
    }

    // --- Settings ---------------------------------------------------------------------------
    async function changeModel() {
      const previous = els.picker.dataset.previous;
      if (!conversationId) {
        els.picker.dataset.previous = els.picker.value;
        return;
      }
      els.picker.disabled = true;
      try {
        const conv = await api('PATCH', url('urlApiConversation', conversationId), { model: els.picker.value });
        els.picker.dataset.previous = conv.model;
        hideError();
      } catch (err) {
        showError(err.message);
        els.picker.value = previous;
      } finally {
        els.picker.disabled = false;
      }
    }

    async function saveSettings() {
      els.saveSettings.disabled = true;
      els.settingsStatus.textContent = '';
      try {
        if (conversationId) {
          await api('PATCH', url('urlApiConversation', conversationId), { system_prompt: els.systemPrompt.value });
          els.settingsStatus.textContent = strings.saved;
        } else {
          els.settingsStatus.textContent = strings.saved_for_new;
        }
      } catch (err) {
        els.settingsStatus.textContent = err.message;
      } finally {
        els.saveSettings.disabled = false;
      }
    }

    // --- Wiring -----------------------------------------------------------------------------
    els.composer.addEventListener('submit', (event) => {
      event.preventDefault();
      send();
    });
    els.input.addEventListener('keydown', (event) => {
      // Enter sends; Shift+Enter is a newline; Enter that confirms an IME composition is neither.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        send();
      }
    });
    els.input.addEventListener('input', updateComposer);
    els.stop.addEventListener('click', stop);
    els.loadMore.addEventListener('click', loadMore);
    els.picker.dataset.previous = els.picker.value;
    els.picker.addEventListener('change', changeModel);
    els.saveSettings.addEventListener('click', saveSettings);
    els.systemPrompt.addEventListener('input', () => {
      els.settingsStatus.textContent = '';
    });
    els.list.addEventListener('click', (event) => {
      const button = event.target.closest('button');
      const item = button && button.closest('.conversation-item');
      if (!item) return;
      if (button.classList.contains('rename-button')) rename(item, button);
      else if (button.classList.contains('delete-button')) remove(item, button);
    });
    els.messages.addEventListener('click', (event) => {
      const button = event.target.closest('button');
      if (!button) return;
      if (button.classList.contains('copy-button')) copyCode(button);
      else if (button.classList.contains('retry-button')) retry(button.closest('.from-assistant'), button);
    });

    // A reply still being written when the page loaded continues where it is.
    for (const el of els.messages.querySelectorAll('.from-assistant')) {
      if (UNFINISHED.has(el.dataset.status) && el.dataset.streamUrl && !activeStream) {
        startStream(el, el.dataset.streamUrl);
      } else {
        addCopyButtons(el.querySelector('.message-body'));
      }
    }
    updateRetryButtons();
    updateComposer();
    scrollToBottom();
    if (!activeStream) els.input.focus();
  }
}
