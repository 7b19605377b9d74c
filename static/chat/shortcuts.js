// The keyboard while a reply streams: the composer stays usable (the next message can be
// written meanwhile, and sent once the reply has ended), Esc stops the reply, and focus never
// falls to the page's body when a button it was on disappears.

// Put focus back in the composer if it was lost (on the body, or on a button now hidden or
// gone); leave it where it is if the user has moved on to something else.
export function keepFocus(page) {
  const active = document.activeElement;
  const lost =
    !active ||
    active === document.body ||
    !active.isConnected ||
    active.closest('[hidden]') !== null ||
    (active instanceof HTMLButtonElement && (active.hidden || active.disabled));
  if (lost) page.els.input.focus({ preventScroll: true });
}

// `stop` stops the reply being written.
export function wireShortcuts(page, { stop }) {
  // A reply that the user started from a button that then goes away (Regenerate, Retry: its
  // message is replaced) leaves the keyboard in the composer, not on the page's body. (Not
  // a reply resumed as the page loads: on a phone, focus would open the keyboard.)
  page.els.messages.addEventListener('reply-start', () => {
    if (page.busy) keepFocus(page);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || event.defaultPrevented || event.isComposing) return;
    if (!page.activeStream) return;
    // Esc inside an open drawer or dialog closes that first (drawer.js).
    if (event.target instanceof Element && event.target.closest('.sidebar')) return;
    event.preventDefault();
    stop();
  });
}
