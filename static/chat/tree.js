// Conversations as trees on the page (DESIGN.md, "Conversations are trees"): the ‹2/3›
// switcher on messages that have siblings, switching branches at once, editing and resending
// a question, and regenerating any finished reply. The server keeps the tree; the page keeps
// a copy of it (GET .../messages) so that a switch redraws at once, with no request to wait
// for, and then tells the server which branch is shown (PATCH current).
import { hideError, modelSaved, showError, updateComposer } from './composer.js';
import { markContext } from './context.js';
import { pinToBottom, renderFinished, replyElement, updateRetryButtons, userMessage } from './messages.js';
import { conversationTouched } from './sidebar.js';
import { startStream, UNFINISHED } from './stream.js';
import { fmt } from './util.js';

const ROOT = 'root'; // the key of the first messages' parent

function emptyTree() {
  return {
    loading: null, // the request for the copy of the tree, once asked
    byId: new Map(), // id -> the message as the API gave it
    children: new Map(), // parent id (or ROOT) -> child ids, oldest first
    rank: new Map(), // id -> its place in writing order
    elements: new Map(), // id -> its element, shown or not (kept so switching back is free)
    saving: Promise.resolve(), // the PATCHes of `current`, one after the other
  };
}

const key = (parent) => (parent === null || parent === undefined || parent === '' ? ROOT : String(parent));

function messageElements(page) {
  return Array.from(page.els.messages.querySelectorAll(':scope > .message'));
}

function remember(page) {
  for (const el of messageElements(page)) {
    if (el.dataset.messageId) page.tree.elements.set(el.dataset.messageId, el);
  }
}

async function load(page) {
  const data = await page.api('GET', page.url('urlApiMessages', page.conversationId));
  const tree = page.tree;
  tree.byId.clear();
  tree.children.clear();
  tree.rank.clear();
  for (const m of data.messages) {
    const id = String(m.id);
    tree.byId.set(id, m);
    tree.rank.set(id, tree.rank.size);
    const siblings = tree.children.get(key(m.parent)) || [];
    siblings.push(id);
    tree.children.set(key(m.parent), siblings);
  }
}

function ensureTree(page) {
  if (!page.tree.loading) {
    page.tree.loading = load(page).catch((err) => {
      page.tree.loading = null; // asked again next time
      throw err;
    });
  }
  return page.tree.loading;
}

// Read the tree again (after a send, an edit or a regenerate) and update the switchers.
export function treeChanged(page) {
  if (!page.conversationId) return;
  remember(page);
  page.tree.loading = null;
  ensureTree(page).then(() => decorateAll(page), () => {});
}

function siblingsOf(page, el) {
  const id = el.dataset.messageId;
  const m = page.tree.byId.get(id);
  if (m) return page.tree.children.get(key(m.parent)) || [id];
  return (el.dataset.siblings || '').split(',').filter(Boolean);
}

function newestLeaf(tree, id) {
  let newest = id;
  const stack = [id];
  while (stack.length) {
    const node = stack.pop();
    if (tree.rank.get(node) > tree.rank.get(newest)) newest = node;
    stack.push(...(tree.children.get(node) || []));
  }
  return newest;
}

function branchTo(tree, leaf) {
  const path = [];
  for (let node = leaf; node && tree.byId.has(node); node = key(tree.byId.get(node).parent)) {
    path.unshift(node);
    if (path.length > tree.byId.size) break;
  }
  return path;
}

function elementFor(page, id) {
  const known = page.tree.elements.get(id);
  if (known) return known;
  const m = page.tree.byId.get(id);
  let el;
  if (m.role === 'user') {
    el = userMessage(m);
  } else {
    el = replyElement(m);
    if (!UNFINISHED.has(m.status)) renderFinished(page, el, m);
  }
  page.tree.elements.set(id, el);
  return el;
}

function decorate(page, el) {
  const { strings } = page;
  const header = el.querySelector('.message-author');
  if (!header) return;
  let switcher = header.querySelector('.branch-switcher');
  if (!switcher) {
    switcher = document.createElement('span');
    switcher.className = 'branch-switcher';
    const prev = document.createElement('button');
    prev.type = 'button';
    prev.className = 'branch-prev';
    prev.textContent = '‹';
    prev.setAttribute('aria-label', strings.previous_version);
    const count = document.createElement('span');
    count.className = 'branch-count';
    const next = document.createElement('button');
    next.type = 'button';
    next.className = 'branch-next';
    next.textContent = '›';
    next.setAttribute('aria-label', strings.next_version);
    switcher.append(prev, count, next);
    header.append(switcher);
  }
  const siblings = siblingsOf(page, el);
  const index = siblings.indexOf(el.dataset.messageId);
  switcher.hidden = siblings.length < 2 || index < 0;
  switcher.querySelector('.branch-count').textContent = fmt(strings.version, { index: index + 1, count: siblings.length });
  switcher.querySelector('.branch-prev').disabled = index <= 0;
  switcher.querySelector('.branch-next').disabled = index >= siblings.length - 1;
  if (el.dataset.role === 'user' && !header.querySelector('.edit-button')) {
    const edit = document.createElement('button');
    edit.type = 'button';
    edit.className = 'edit-button';
    edit.textContent = strings.edit;
    header.append(edit);
  }
}

function decorateAll(page) {
  for (const el of messageElements(page)) decorate(page, el);
  markContext(page);
}

// Take `el` and every message after it off the page (their elements are kept).
function cutFrom(page, el) {
  const shown = messageElements(page);
  for (const other of shown.slice(shown.indexOf(el))) other.remove();
}

function idle(page) {
  return !page.activeStream && !page.busy;
}

async function switchVersion(page, el, step) {
  if (!idle(page)) return;
  try {
    await ensureTree(page);
  } catch (err) {
    showError(page, err.message);
    return;
  }
  const tree = page.tree;
  const siblings = siblingsOf(page, el);
  const target = siblings[siblings.indexOf(el.dataset.messageId) + step];
  if (!target || !el.isConnected) return;
  const path = branchTo(tree, newestLeaf(tree, target));
  cutFrom(page, el);
  for (const id of path.slice(path.indexOf(target))) page.els.messages.append(elementFor(page, id));
  decorateAll(page);
  updateRetryButtons(page);
  hideError(page);
  const url = page.url('urlApiConversation', page.conversationId);
  tree.saving = tree.saving
    .then(() => page.api('PATCH', url, { current: Number(target) }))
    .catch((err) => showError(page, err.message));
}

function closeEditor(el) {
  const editor = el.querySelector('.message-edit');
  if (editor) editor.remove();
  el.querySelector('.message-body').hidden = false;
}

function openEditor(page, el) {
  if (!idle(page) || el.querySelector('.message-edit')) return;
  const { strings } = page;
  const body = el.querySelector('.message-body');
  const form = document.createElement('form');
  form.className = 'message-edit';
  const area = document.createElement('textarea');
  area.rows = 3;
  area.value = body.textContent;
  area.setAttribute('aria-label', strings.edit);
  const bar = document.createElement('div');
  bar.className = 'message-edit-bar';
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.className = 'button edit-cancel';
  cancel.textContent = strings.cancel;
  const save = document.createElement('button');
  save.type = 'submit';
  save.className = 'button primary edit-send';
  save.textContent = strings.send_edit;
  bar.append(cancel, save);
  form.append(area, bar);
  body.hidden = true;
  body.after(form);
  area.focus();
  cancel.addEventListener('click', () => closeEditor(el));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    resend(page, el, area.value, save);
  });
}

// Edit and resend: the new question goes beside the old one (same parent), with its reply.
async function resend(page, el, content, button) {
  if (!content.trim() || !idle(page)) return;
  button.disabled = true;
  page.busy = true;
  updateComposer(page);
  try {
    if (!(await modelSaved(page))) {
      button.disabled = false;
      return;
    }
    hideError(page);
    await ensureTree(page);
    const old = page.tree.byId.get(el.dataset.messageId);
    const parent = old ? old.parent : el.dataset.parent ? Number(el.dataset.parent) : null;
    const sent = await page.api('POST', page.url('urlApiMessages', page.conversationId), { content, parent });
    closeEditor(el);
    cutFrom(page, el);
    const reply = replyElement(sent.reply);
    page.els.messages.append(userMessage(sent.message), reply);
    pinToBottom(page);
    conversationTouched(page, '');
    startStream(page, reply, sent.stream_url);
    treeChanged(page);
  } catch (err) {
    showError(page, err.message); // the edited text stays in the editor
    button.disabled = false;
  } finally {
    page.busy = false;
    updateComposer(page);
  }
}

// A new reply beside this one (same question); it and what followed it leave the page.
export async function regenerate(page, el, button) {
  if (!idle(page)) return;
  button.disabled = true;
  page.busy = true;
  updateComposer(page);
  try {
    if (!(await modelSaved(page))) {
      button.disabled = false;
      return;
    }
    hideError(page);
    const res = await page.api('POST', page.url('urlApiRegenerate', el.dataset.messageId));
    cutFrom(page, el);
    const fresh = replyElement(res.reply);
    page.els.messages.append(fresh);
    pinToBottom(page);
    conversationTouched(page, '');
    startStream(page, fresh, res.stream_url);
    treeChanged(page);
  } catch (err) {
    showError(page, err.message);
    button.disabled = false;
  } finally {
    page.busy = false;
    updateComposer(page);
  }
}

// Show `messages` (a branch, root to leaf, as the API gives it) in place of what is shown,
// and follow its last reply if it is still being written (a reply started in another tab).
export async function showBranch(page, messages) {
  remember(page);
  page.tree.loading = null;
  await ensureTree(page);
  const ids = messages.map((m) => String(m.id)).filter((id) => page.tree.byId.has(id));
  for (const el of messageElements(page)) el.remove();
  for (const id of ids) page.els.messages.append(elementFor(page, id));
  page.els.emptyState.hidden = ids.length > 0;
  decorateAll(page);
  updateRetryButtons(page);
  const lastId = ids[ids.length - 1];
  const last = lastId && page.tree.byId.get(lastId);
  if (last && last.role === 'assistant' && UNFINISHED.has(last.status) && !page.activeStream) {
    startStream(page, elementFor(page, lastId), page.url('urlReplyEvents', lastId));
  }
  pinToBottom(page);
  updateComposer(page);
}

export function wireTree(page) {
  page.tree = emptyTree();
  remember(page);
  decorateAll(page);
  page.els.messages.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    const el = button && button.closest('.message');
    if (!el) return;
    if (button.classList.contains('branch-prev')) switchVersion(page, el, -1);
    else if (button.classList.contains('branch-next')) switchVersion(page, el, 1);
    else if (button.classList.contains('edit-button')) openEditor(page, el);
    else if (button.classList.contains('retry-button')) regenerate(page, el, button);
  });
  // The copy of the tree is read at once, so that the first switch need not wait for it.
  if (page.conversationId && messageElements(page).length) ensureTree(page).catch(() => {});
}
