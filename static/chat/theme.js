// The theme switch in the site's header: the page changes at once, and the choice is kept on
// the server (chat/preferences.py), so it follows the user to other browsers.
import { createApi } from './api.js';

const picker = document.getElementById('theme-picker');
if (picker) {
  const api = createApi({ network_error: '', server_error: '' });
  picker.addEventListener('change', async () => {
    const previous = document.documentElement.dataset.theme;
    document.documentElement.dataset.theme = picker.value;
    picker.disabled = true;
    try {
      await api('PATCH', picker.dataset.url, { theme: picker.value });
    } catch {
      // Not kept: show the theme that is.
      document.documentElement.dataset.theme = previous;
      picker.value = previous;
    } finally {
      picker.disabled = false;
    }
  });
}
