"""Each thread renders with one Markdown parser, reset before each text: nothing of one text
(its reference definitions, stashed code, half-open brackets) changes how the next renders."""

from __future__ import annotations

import threading

from chat import render

TEXTS = [
    "[ref]: https://example.com/one\n\nSee [this][ref] and [[nested] brackets](https://a.example/x)",
    "Only a [ref] here, and [that][ref], with no definition of it.",
    "```python\nprint('<b>你好</b>')\n```\n\nAfter `code` and <div>raw html</div>",
    "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n- one\n- two\n\n1. three",
    "[" * 500 + "x" + "]" * 3,
    "![pic](https://img.example/p.png) and www.example.org and mail@example.org",
    "line one\nline two\n\n> quoted **bold** [link](javascript:alert(1))",
    "]" * 50 + "[unclosed (paren",
]


def fresh(text: str, hosts: frozenset[str]) -> str:
    """The HTML a new parser makes (before the sanitizer, which keeps no state, and whose
    order of the attributes it adds to an image varies from call to call)."""
    html: str = render._new_parser(hosts).convert(text)
    return html


def test_a_reused_parser_renders_each_text_as_a_new_one_would() -> None:
    hosts = frozenset({"img.example"})
    for _ in range(2):
        for text in TEXTS:
            assert render._markdown_to_html(text, hosts) == fresh(text, hosts)
            assert render._markdown_to_html(text) == fresh(text, frozenset())


def test_a_definition_in_one_text_is_not_a_link_in_the_next() -> None:
    render.render_markdown("[ref]: https://example.com/one\n\nsee [x][ref]")
    html = render.render_markdown("see [x][ref]")
    assert "href" not in html and "[x][ref]" in html


def test_threads_have_parsers_of_their_own() -> None:
    render.render_markdown("*main*")
    mine = render._parsers.by_hosts[frozenset()]
    theirs: list[object] = []

    def work() -> None:
        for text in TEXTS:
            assert render._markdown_to_html(text) == fresh(text, frozenset())
        theirs.append(render._parsers.by_hosts[frozenset()])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(theirs) == 4 and all(parser is not mine for parser in theirs)
    assert len({id(parser) for parser in theirs}) == 4  # all alive: kept in `theirs`
