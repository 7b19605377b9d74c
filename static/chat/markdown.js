// Markdown to sanitized DOM in the browser, for the text of a reply while it streams. The
// server's HTML (chat/render.py) stays the authority and replaces this when the reply ends,
// so this follows the server's rules: the same dialect as far as marked allows (GFM tables,
// fenced code, a line break for every newline, raw HTML shown as text), the same allowlist of
// tags, attributes and URL schemes (read from #chat-render-rules, which chat/render.py
// writes), and images only from the allowed https hosts, links otherwise.
import DOMPurify from '../vendor/dompurify/purify.es.mjs';
import hljs from '../vendor/highlight/highlight.min.js';
import { Marked } from '../vendor/marked/marked.esm.js';

const escapeHtml = (text) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function allowedHost(host, hosts) {
  if (!host) return false;
  return hosts.includes(host) || hosts.some((h) => h.startsWith('.') && host.endsWith(h));
}

// The server's rule (chat/render.py, _ImagesAsLinks): an image shows only over https from an
// allowed host; any other image is a link the reader may follow.
function imageAllowed(src, hosts) {
  let url;
  try {
    url = new URL(src, document.baseURI);
  } catch {
    return false;
  }
  return src.startsWith('https://') && allowedHost(url.hostname, hosts);
}

export function createRenderer(rules) {
  const purify = DOMPurify(window);
  const allAttributes = [...new Set(Object.values(rules.attributes).flat())];
  const schemes = rules.url_schemes.map((s) => s.replace(/[^a-z0-9+.-]/gi, '')).join('|');
  const config = {
    ALLOWED_TAGS: rules.tags,
    ALLOWED_ATTR: allAttributes,
    // DOMPurify's own pattern with the server's schemes: those, or a relative URL.
    ALLOWED_URI_REGEXP: new RegExp(`^(?:(?:${schemes}):|[^a-z]|[a-z+.\\-]+(?:[^a-z+.\\-:]|$))`, 'i'),
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  };
  // Attributes are allowed per tag, as nh3 does: `class` on code but not on a link.
  purify.addHook('uponSanitizeAttribute', (node, data) => {
    const allowed = rules.attributes[node.nodeName.toLowerCase()];
    if (!allowed || !allowed.includes(data.attrName)) data.keepAttr = false;
  });
  purify.addHook('afterSanitizeAttributes', (node) => {
    const name = node.nodeName.toLowerCase();
    if (name === 'a') node.setAttribute('rel', rules.link_rel);
    for (const [attr, value] of Object.entries(rules.forced_attributes[name] || {})) {
      node.setAttribute(attr, value);
    }
  });

  const marked = new Marked({
    gfm: true,
    breaks: true, // Python-Markdown's nl2br
    async: false,
    tokenizer: {
      // No raw HTML: it falls through to text and is shown escaped, as on the server.
      html: () => undefined,
      tag: () => undefined,
    },
    renderer: {
      code({ text, lang }) {
        const language = (lang || '').match(/^[\w+#.-]*/)[0];
        const cls = language ? ` class="language-${escapeHtml(language)}"` : '';
        return `<div class="codehilite"><pre><code${cls}>${escapeHtml(text)}\n</code></pre></div>\n`;
      },
      image({ href, title, text }) {
        const src = href || '';
        if (imageAllowed(src, rules.image_hosts)) return false; // marked's own <img>
        void title;
        return `<a href="${escapeHtml(src)}">${escapeHtml(text || src)}</a>`;
      },
    },
  });

  function sanitize(html) {
    const fragment = purify.sanitize(html, config);
    // Whatever made an <img> past the renderer still obeys the host rule.
    for (const img of fragment.querySelectorAll('img')) {
      const src = img.getAttribute('src') || '';
      if (imageAllowed(src, rules.image_hosts)) continue;
      const link = document.createElement('a');
      link.href = src;
      link.rel = rules.link_rel;
      link.textContent = img.getAttribute('alt') || src;
      img.replaceWith(link);
    }
    return fragment;
  }

  // Colours for a finished code block in a language highlight.js knows; the server's
  // Pygments output replaces it when the reply ends.
  function highlight(root) {
    for (const code of root.querySelectorAll('div.codehilite code[class^="language-"]')) {
      if (code.dataset.highlighted) continue;
      const language = code.className.slice('language-'.length);
      if (!hljs.getLanguage(language)) continue;
      const { value } = hljs.highlight(code.textContent, { language, ignoreIllegals: true });
      code.replaceChildren(purify.sanitize(value, config));
      code.dataset.highlighted = 'yes';
    }
  }

  return {
    lex: (text) => marked.lexer(text),
    // Tokens (from `lex`) to a sanitized fragment.
    render: (tokens) => sanitize(marked.parser(tokens)),
    highlight,
  };
}

// The rules chat/render.py publishes in the page, or null on a page without them.
export function pageRules() {
  const el = document.getElementById('chat-render-rules');
  return el ? JSON.parse(el.textContent) : null;
}
