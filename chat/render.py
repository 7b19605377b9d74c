"""Markdown to sanitized HTML: the only place that turns model or user text into HTML.

Model output is untrusted input. Raw HTML in the markdown is escaped (shown as text, so a
reply that talks about `<div>` keeps its words), and the rendered HTML then passes an explicit
allowlist of tags, attributes and URL schemes (nh3) before anything marks it safe.
"""

from __future__ import annotations

import markdown
import nh3
from django.utils.html import escape

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "details",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "div": {"class"},
    "span": {"class"},
    "pre": {"class"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Fixed attributes added to every allowed tag of that name.
FORCED_ATTRIBUTES = {"img": {"referrerpolicy": "no-referrer", "loading": "lazy"}}
LINK_REL = "noopener noreferrer nofollow"

_EXTENSIONS = ["fenced_code", "tables", "sane_lists", "codehilite", "nl2br"]
_EXTENSION_CONFIGS = {
    "codehilite": {"guess_lang": False, "css_class": "codehilite"},
    # `align` rather than the default inline style, which the sanitizer (rightly) drops.
    "tables": {"use_align_attribute": True},
}


def _markdown_to_html(text: str) -> str:
    md = markdown.Markdown(extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS)
    # Escape raw HTML instead of passing it through: the sanitizer would drop it, and the
    # words with it.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    html: str = md.convert(text)
    return html


def sanitize(html: str) -> str:
    clean: str = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        set_tag_attribute_values=FORCED_ATTRIBUTES,
        strip_comments=True,
    )
    return clean


def render_markdown(text: str) -> str:
    """Markdown source to HTML that is safe to insert into the page as it is."""
    if not text:
        return ""
    return sanitize(_markdown_to_html(text))


def render_plain(text: str) -> str:
    """User messages: shown as written (escaped; the page keeps line breaks with CSS
    white-space), never as markdown."""
    return escape(text)
