// Where the context sent to the model began: when older messages no longer fitted in the
// model's context, the newest reply on the page says from which message on it was sent
// (data-context-from), and a line before that message marks what the model did not see.
export function markContext(page) {
  const box = page.els.messages;
  for (const old of box.querySelectorAll(':scope > .context-cut')) old.remove();
  const replies = box.querySelectorAll(':scope > .from-assistant');
  const last = replies[replies.length - 1];
  const from = last && last.dataset.contextFrom;
  if (!from) return;
  const first = box.querySelector(`:scope > .message[data-message-id="${CSS.escape(from)}"]`);
  if (!first) return;
  const cut = document.createElement('p');
  cut.className = 'context-cut';
  cut.setAttribute('role', 'note');
  cut.textContent = page.strings.context_cut;
  first.before(cut);
}
