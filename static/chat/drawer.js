// On a narrow screen the conversation list is a drawer: the menu button in the conversation's
// header slides it in over the page, and Esc, the backdrop or the button again put it away.
// Focus moves into the drawer when it opens and back to the button when it closes.
const NARROW = window.matchMedia('(max-width: 760px)');

export function wireDrawer(app) {
  const toggle = document.getElementById('drawer-toggle');
  const sidebar = document.getElementById('sidebar');
  const backdrop = document.getElementById('drawer-backdrop');
  if (!toggle || !sidebar || !backdrop) return;

  const isOpen = () => app.classList.contains('drawer-open');
  function setOpen(open, { focus = true } = {}) {
    app.classList.toggle('drawer-open', open);
    toggle.setAttribute('aria-expanded', String(open));
    backdrop.hidden = !open;
    if (!focus) return;
    if (open) {
      const target = sidebar.querySelector('.is-current .conversation-link') || sidebar.querySelector('a, button');
      if (target) target.focus();
    } else {
      toggle.focus();
    }
  }

  toggle.addEventListener('click', () => setOpen(!isOpen()));
  backdrop.addEventListener('click', () => setOpen(false));
  sidebar.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && isOpen()) {
      event.stopPropagation();
      setOpen(false);
    }
  });
  // Widening the window (a phone turned, a desktop window resized) leaves no drawer state.
  NARROW.addEventListener('change', () => {
    if (!NARROW.matches && isOpen()) setOpen(false, { focus: false });
  });
}
