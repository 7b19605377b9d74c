"""A user's Usage page in Chromium: the charts drawn by the server show, within the
Content-Security-Policy, in the user's language."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from chat.models import ModelPrice
from tests.support.browser import log_in
from tests.support.daphne import Daphne
from tests.support.rows import ledger_row

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_usage_page_shows_tokens_and_cost_per_day(
    page: Page, daphne: Daphne, live_user: User
) -> None:
    ModelPrice.objects.create(model="demo", input_per_million=Decimal(1), output_per_million=2)
    ledger_row(live_user.pk, "demo", 3000, 1000)
    ledger_row(live_user.pk, "demo", 500, 500, at=timezone.now() - timedelta(days=2))
    log_in(page, daphne, live_user)
    page.goto(daphne.url + "/")
    page.get_by_role("link", name="Usage").click()
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(2)
    bars = page.locator("svg.chart").first.locator("rect.chart-bar")
    expect(bars).to_have_count(4)  # input and output, on two days
    tallest = max(bars.nth(i).bounding_box()["height"] for i in range(4))  # type: ignore[index]
    assert tallest > 20
    expect(page.locator("#usage-by-model")).to_contain_text("demo")
    expect(page.locator(".usage-summary")).to_contain_text("5,000 tokens in 2 replies")


def test_the_usage_page_in_chinese(page: Page, daphne: Daphne, live_user: User) -> None:
    page.context.set_extra_http_headers({"Accept-Language": "zh-Hans"})
    log_in(page, daphne, live_user)
    page.goto(daphne.url + "/usage/")
    expect(page.locator("h1")).to_have_text("用量")
    expect(page.locator("figcaption").first).to_have_text("每日 token 数")
