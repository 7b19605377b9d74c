"""Rendering hostile markdown is bounded (chat/render.py, chat/server/renderer.py): the
linear bracket scans give the library's own result, and a render that takes too long is
replaced by escaped plain text, in a worker that is then replaced."""

from __future__ import annotations

import asyncio
import os
import random

import markdown
import pytest
from pytest_django.fixtures import Settings

from chat import render
from chat.server import renderer

ALPHABET = ["[", "]", "(", ")", "!", "a", " ", '"', "'", "<", ">", "\n", "`", "\\", "http://x"]


def library_html(text: str) -> str:
    """The same markdown, with the library's own scans."""
    config = render._EXTENSION_CONFIGS
    md = markdown.Markdown(extensions=render._EXTENSIONS, extension_configs=config)
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    # The site's image rule, which is not what is compared here.
    md.treeprocessors.register(render._ImagesAsLinks(md, frozenset()), "images_as_links", 5)
    return same_order(render.sanitize(md.convert(text)) if text else "")


def same_order(html: str) -> str:
    # nh3 adds the forced attributes of an image in no fixed order.
    both = ' referrerpolicy="no-referrer" loading="lazy"'
    return html.replace(both, ' loading="lazy" referrerpolicy="no-referrer"')


def ours(text: str) -> str:
    return same_order(render.render_markdown(text))


@pytest.mark.parametrize("seed", range(200))
def test_the_linear_scans_render_as_the_library_does(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 400)))
    assert ours(text) == library_html(text)


@pytest.mark.parametrize(
    "text",
    [
        'A [link](http://x.y "t") and ![img](http://i/p.png) [x [y](z) [a]b]',
        "[[nested]](u) [ref][r] [r]\n\n[r]: http://ref.example/",
        "`[not a link](x)` and \\[escaped](x) and [text with `code]`](u)",
        "[a](b) [c](d)\n\n" * 3 + "[[a](b)" * 10,
    ],
)
def test_links_images_and_references_are_unchanged(text: str) -> None:
    assert ours(text) == library_html(text)


@pytest.mark.parametrize(
    "text",
    ["[" * 20_000, "![" * 10_000, "[a](" * 10_000, "[[a](b)" * 3_000],
    ids=["brackets", "images", "open-links", "nested-links"],
)
def test_the_shapes_that_were_quadratic_render_as_markdown(text: str) -> None:
    # What each gives is what the library gives on a smaller copy of the same shape.
    html = render.render_markdown(text)
    assert html.startswith("<p>") and html.endswith("</p>")
    assert "plain-text" not in html


async def test_a_render_over_the_time_limit_is_shown_as_plain_text(settings: Settings) -> None:
    settings.CHAT_RENDER_TIMEOUT = 0.2
    hostile = "[a](" * 4000 + ")<b>"  # the library's link scan is quadratic in this shape

    html = await renderer.render(hostile)

    assert html == f'<div class="plain-text">{"[a](" * 4000})&lt;b&gt;</div>'
    # The worker that was busy with it was replaced: the next render works.
    assert await renderer.render("**fine**") == "<p><strong>fine</strong></p>"


async def test_renders_run_in_worker_processes_in_parallel(settings: Settings) -> None:
    settings.CHAT_RENDER_WORKERS = 2
    texts = [f"# Title {n}\n\n- item **{n}**" for n in range(6)]
    results = await asyncio.gather(*(renderer.render(t) for t in texts))
    assert results == [render.render_markdown(t) for t in texts]


async def test_render_workers_yield_the_core_to_the_server() -> None:
    await renderer.render("**warm**")
    workers = renderer._renderers().idle
    assert workers
    for worker in workers:
        niceness = os.getpriority(os.PRIO_PROCESS, worker.process.pid)
        assert niceness == min(19, os.getpriority(os.PRIO_PROCESS, 0) + render.RENDER_NICENESS)
