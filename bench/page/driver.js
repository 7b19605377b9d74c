// Streams tokens into a reply body, one per delta, the way stream.js does: `live` through the
// page's LiveView (static/chat/live-view.js), `plain` as text appended to a text node (what
// the page did before it formatted live replies). Deltas come `interval` ms apart, and the
// page keeps the newest text in view once a frame, as messages.js does.
import { LiveView } from '/static/chat/live-view.js';

window.benchRun = (tokens, mode, interval) => new Promise((resolve) => {
  const body = document.getElementById('body');
  const box = document.getElementById('messages');
  body.replaceChildren();
  const live = mode === 'live' ? new LiveView(body) : null;
  const node = document.createTextNode('');
  if (!live) body.append(node);
  let queued = false;
  let i = 0;
  const tick = () => {
    if (live) live.append(tokens[i]);
    else node.appendData(tokens[i]);
    if (!queued) {
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        box.scrollTop = box.scrollHeight;
      });
    }
    i += 1;
    if (i < tokens.length) setTimeout(tick, interval);
    else requestAnimationFrame(() => requestAnimationFrame(() => resolve(body.textContent.length)));
  };
  tick();
});
