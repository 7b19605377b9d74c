// Phones and tablets: their keyboards have no Shift+Enter to speak of, so there Enter starts a
// new line and the Send button sends; the composer's hints say so.
const TOUCH = window.matchMedia('(pointer: coarse)');

export const enterSends = () => !TOUCH.matches;

export function adaptHints(page) {
  if (enterSends()) return;
  page.els.input.placeholder = page.strings.placeholder_touch;
  const hint = page.els.emptyState.querySelector('p');
  if (hint) hint.textContent = page.strings.hint_touch;
}
