// Tells a screen reader that a reply started and how it ended, through a polite live region
// (#reply-announcer): the streamed text itself is not announced word by word.
export function wireAnnouncer(page) {
  const region = document.getElementById('reply-announcer');
  if (!region) return;
  const { strings } = page;
  const say = (text) => {
    // A change of text is what a live region announces: clear it first, so the same words
    // twice in a row are said twice.
    region.textContent = '';
    setTimeout(() => {
      region.textContent = text;
    }, 50);
  };
  page.els.messages.addEventListener('reply-start', () => say(strings.reply_started));
  page.els.messages.addEventListener('reply-end', (event) => {
    const status = event.detail && event.detail.status;
    const words = {
      complete: strings.reply_complete,
      stopped: strings.reply_stopped,
      interrupted: strings.interrupted,
    };
    say(words[status] || strings.error);
  });
}
