// Small helpers shared by the chat page's modules.

// Fill a gettext-style template: fmt('%(count)s tokens', { count: 3 }).
export const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ''));

export const charCount = (text) => Array.from(text).length; // code points, as the server counts

export function clone(templateId) {
  return document.getElementById(templateId).content.firstElementChild.cloneNode(true);
}
