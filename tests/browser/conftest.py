"""Fixtures of the browser tests: Debian's Chromium through Playwright, for each module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    BrowserType,
    Page,
    Playwright,
    sync_playwright,
)

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, RECORD_STREAMS


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


# pytest-playwright keeps Playwright for the whole session, but its sync API marks an event
# loop as running in the main thread while it lives, and every async test after the first
# browser test would then fail ("cannot be called from a running event loop"). So Playwright,
# and the fixtures above it that are session-scoped upstream, live for this module only.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    return lambda **kwargs: browser_type.launch(**{**browser_type_launch_args, **kwargs})


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_context_args() -> dict[str, Any]:
    return {}


@pytest.fixture
def csp_refusals() -> list[str]:
    """The Content-Security-Policy refusals of the test's page (see `page`)."""
    return []


def _watched(page: Page, csp_refusals: list[str]) -> Page:
    page.set_default_timeout(15_000)
    page.add_init_script(RECORD_STREAMS)
    page.on(
        "console",
        lambda message: (
            csp_refusals.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return page


def _check_csp(csp_refusals: list[str], request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("csp_refusals_expected") is None:
        assert csp_refusals == [], f"the page broke its Content-Security-Policy: {csp_refusals}"


@pytest.fixture
def page(page: Page, csp_refusals: list[str], request: pytest.FixtureRequest) -> Iterator[Page]:
    """pytest-playwright's page, recording what its event streams bring (RECORD_STREAMS), and
    failing the test if the page broke its Content-Security-Policy (each such refusal is a
    console error from Chromium)."""
    yield _watched(page, csp_refusals)
    _check_csp(csp_refusals, request)


@pytest.fixture
def make_page(
    browser: Browser, csp_refusals: list[str], request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """Pages in browser contexts of their own (`make_page(timezone_id="Asia/Shanghai")`, any
    of Playwright's context options), watched as `page` is."""
    contexts: list[BrowserContext] = []

    def make(**context_args: Any) -> Page:
        contexts.append(browser.new_context(**context_args))
        return _watched(contexts[-1].new_page(), csp_refusals)

    yield make
    for context in contexts:
        context.close()
    _check_csp(csp_refusals, request)


@pytest.fixture
def phone_page(make_page: Callable[..., Page]) -> Page:
    """A page as on a phone: 390x844, a touch screen (`pointer: coarse`), mobile viewport
    rules; watched as `page` is."""
    return make_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
