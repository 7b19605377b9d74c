// The composer and what the next message is sent with: its text, the model and the system
// prompt; and the error line under it that the other parts of the page report to.
import { enterSends } from './touch.js';
import { charCount, fmt } from './util.js';

// `kind` says which check made the error ('length': the message is too long), so that
// fixing that clears it.
export function showError(page, message, kind = '') {
  page.els.error.textContent = message;
  page.els.error.dataset.kind = kind;
  page.els.error.hidden = false;
}

export function hideError(page) {
  page.els.error.hidden = true;
  page.els.error.textContent = '';
  page.els.error.dataset.kind = '';
}

export function updateComposer(page) {
  const { els, strings, maxChars } = page;
  const streaming = page.activeStream !== null;
  const length = charCount(els.input.value);
  const over = length > maxChars;
  // The composer stays writable while a reply streams (shortcuts.js); only sending waits.
  els.send.disabled = streaming || page.busy || over || !els.input.value.trim();
  els.stop.hidden = !streaming;
  els.composer.classList.toggle('is-streaming', streaming);
  // The counter gives the numbers; the sentence saying the message is too long is the error
  // line's, once, when the user tries to send it.
  els.counter.classList.toggle('is-over', over);
  els.counter.textContent = length > maxChars * 0.8 ? fmt(strings.counter, { length, limit: maxChars }) : '';
  if (!over && els.error.dataset.kind === 'length') hideError(page);
}

function changeModel(page) {
  const { els } = page;
  if (!page.conversationId) {
    els.picker.dataset.previous = els.picker.value;
    return;
  }
  page.modelChange = saveModel(page);
}

async function saveModel(page) {
  const { els } = page;
  const previous = els.picker.dataset.previous;
  els.picker.disabled = true;
  try {
    const conv = await page.api('PATCH', page.url('urlApiConversation', page.conversationId), { model: els.picker.value });
    els.picker.dataset.previous = conv.model;
    hideError(page);
    return true;
  } catch (err) {
    showError(page, err.message);
    els.picker.value = previous;
    return false;
  } finally {
    els.picker.disabled = false;
  }
}

// Whether the model the picker shows is the conversation's: a reply started while a change is
// still being saved would otherwise come from the model chosen before it. False when the
// change was refused (the picker is back on the previous model and the error line says why).
export async function modelSaved(page) {
  const change = page.modelChange;
  if (!change) return true;
  const saved = await change;
  if (page.modelChange === change) page.modelChange = null;
  return saved;
}

async function saveSettings(page) {
  const { els, strings } = page;
  els.saveSettings.disabled = true;
  els.settingsStatus.textContent = '';
  try {
    if (page.conversationId) {
      await page.api('PATCH', page.url('urlApiConversation', page.conversationId), { system_prompt: els.systemPrompt.value });
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

// `send` sends what is in the composer; `stop` stops the reply being written.
export function wireComposer(page, { send, stop }) {
  const { els } = page;
  els.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  els.input.addEventListener('keydown', (event) => {
    // Enter sends; Shift+Enter is a newline; Enter that confirms an IME composition is neither.
    // On a touch screen Enter is a newline, and the Send button sends (touch.js).
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229 && enterSends()) {
      event.preventDefault();
      send();
    }
  });
  els.input.addEventListener('input', () => updateComposer(page));
  els.stop.addEventListener('click', stop);
  els.picker.dataset.previous = els.picker.value;
  els.picker.addEventListener('change', () => changeModel(page));
  els.saveSettings.addEventListener('click', () => saveSettings(page));
  els.systemPrompt.addEventListener('input', () => {
    els.settingsStatus.textContent = '';
  });
}
