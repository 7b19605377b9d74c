// Import in the user's menu: a file of this site's JSON export or ChatGPT's
// conversations.json, sent to POST /api/import. The imported conversations reach the sidebar
// through the user's event stream (follow.js), as any change does. Export is plain links,
// pointed at a conversation made on this page once it exists.
import { csrfToken } from './api.js';
import { hideError, showError } from './composer.js';
import { fmt } from './util.js';

export function wireImport(page) {
  const button = document.getElementById('import-button');
  const input = document.getElementById('import-file');
  if (!button || !input) return;
  button.addEventListener('click', () => input.click());
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    button.disabled = true;
    hideError(page);
    try {
      const form = new FormData();
      form.append('file', file);
      let response;
      try {
        response = await fetch(page.app.dataset.urlApiImport, {
          method: 'POST',
          headers: { Accept: 'application/json', 'X-CSRFToken': csrfToken() },
          credentials: 'same-origin',
          body: form,
        });
      } catch {
        throw new Error(page.strings.network_error);
      }
      const data = await response.json().catch(() => null);
      if (!response.ok) {
        throw new Error(data && data.error ? data.error : fmt(page.strings.server_error, { status: response.status }));
      }
      showNotice(page, fmt(page.strings.imported, { count: data.imported }));
    } catch (err) {
      showError(page, err.message);
    } finally {
      button.disabled = false;
      input.value = '';
    }
  });
}

function showNotice(page, text) {
  const notice = document.getElementById('import-status');
  if (notice) notice.textContent = text;
}

export function showExportLinks(page) {
  const links = document.getElementById('export-links');
  if (!links || !page.conversationId) return;
  const base = page.url('urlApiExportOne', page.conversationId);
  document.getElementById('export-markdown').href = `${base}?format=markdown`;
  document.getElementById('export-json').href = `${base}?format=json`;
  links.hidden = false;
}
