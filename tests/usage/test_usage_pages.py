"""The Usage page and the admin's usage report: charts drawn as SVG on the server, tables,
the CSV export, and who may see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from chat.charts import bar_chart, nice_ceiling
from chat.models import ModelPrice
from tests.support.rows import ledger_row

pytestmark = pytest.mark.django_db


def test_the_usage_page_draws_tokens_and_cost_per_day(
    auth_client: Client, user: User, demo_price: ModelPrice
) -> None:
    ledger_row(user.pk, "demo", 1000, 500)
    ledger_row(user.pk, "demo", 2000, 0, at=timezone.now() - timedelta(days=3))
    r = auth_client.get("/usage/")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count("<svg") == 2  # tokens, and cost (demo has a price)
    assert 'class="chart-bar series-input"' in html
    assert 'class="chart-bar series-cost"' in html
    assert "3,500 tokens in 2 replies" in html
    # Nothing inline: the Content-Security-Policy refuses inline styles and scripts.
    assert " style=" not in html
    assert "<script>" not in html.replace('<script type="module"', "")


def test_the_usage_page_without_prices_has_no_cost_chart(auth_client: Client, user: User) -> None:
    ledger_row(user.pk, "demo", 10, 10)
    html = auth_client.get("/usage/").content.decode()
    assert html.count("<svg") == 1


def test_the_usage_page_is_translated(auth_client: Client, user: User) -> None:
    html = auth_client.get("/usage/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "用量" in html
    assert "每日 token" in html


def test_the_usage_page_shows_only_the_users_own_use(
    auth_client: Client, user: User, other_user: User
) -> None:
    ledger_row(other_user.pk, "secret-model", 5, 5)
    html = auth_client.get("/usage/").content.decode()
    assert "secret-model" not in html


def test_anonymous_is_sent_to_log_in(client: Client) -> None:
    r = client.get("/usage/")
    assert r.status_code == 302
    assert "/accounts/login/" in r["Location"]


def test_a_chart_stacks_its_series_and_scales_to_a_round_top() -> None:
    chart = bar_chart("T", ["a", "b"], [("in", "input", [30, 0]), ("out", "output", [10, 80])])
    assert [t.label for t in chart.ticks] == ["0", "50", "100"]
    a_in, a_out, b_out = chart.segments
    assert (a_in.css, a_out.css, b_out.css) == ("in", "out", "out")
    assert a_out.y + a_out.height == pytest.approx(a_in.y)  # stacked on top
    assert b_out.height == pytest.approx(2 * (a_in.height + a_out.height))
    assert a_in.title == "a · input: 30"
    assert not chart.empty
    assert bar_chart("T", ["a"], [("in", "input", [0])]).empty


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1), (0.3, 0.5), (0.0012, 0.002), (1, 1), (7, 10), (11, 20), (240, 250), (251, 500)],
)
def test_nice_ceiling(value: float, top: float) -> None:
    assert nice_ceiling(value) == top


# --- The admin's report -------------------------------------------------------------------------


def test_the_report_shows_top_users_models_and_days(
    admin_client: Client, user: User, other_user: User, demo_price: ModelPrice
) -> None:
    ledger_row(user.pk, "demo", 100, 100)
    ledger_row(other_user.pk, "demo", 1000, 1000)
    ledger_row(other_user.pk, "gpt-x", 1, 1)
    r = admin_client.get("/admin/chat/usagerecord/report/")
    assert r.status_code == 200
    html = r.content.decode()
    top = re.search(r'id="usage-top-users".*?</table>', html, re.S)
    assert top
    assert top.group(0).index(">bob<") < top.group(0).index(">alice<")  # most tokens first
    assert html.count('<svg class="chart"') == 2
    assert "no price" in html  # gpt-x has none


def test_the_report_can_be_narrowed_to_one_user(
    admin_client: Client, user: User, other_user: User
) -> None:
    ledger_row(user.pk, "demo", 100, 100)
    ledger_row(other_user.pk, "only-bob", 1, 1)
    html = admin_client.get(f"/admin/chat/usagerecord/report/?user={user.pk}").content.decode()
    assert "only-bob" not in html
    assert "Only alice." in html


def test_the_csv_export_has_a_row_per_day_user_and_model(
    admin_client: Client, user: User, demo_price: ModelPrice
) -> None:
    ledger_row(user.pk, "demo", 1000, 500)
    ledger_row(user.pk, "demo", 1000, 500)
    evil = User.objects.create_user("=cmd|calc")
    ledger_row(evil.pk, "demo", 1, 1)
    r = admin_client.get("/admin/chat/usagerecord/report/?days=7&format=csv")
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"] == 'attachment; filename="usage-7-days.csv"'
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    today = timezone.localdate().isoformat()
    assert rows[0] == [
        "date",
        "user",
        "model",
        "replies",
        "input_tokens",
        "output_tokens",
        "cost",
        "currency",
    ]
    assert [today, "alice", "demo", "2", "2000", "1000", "0.014000", "USD"] in rows
    assert [today, "'=cmd|calc", "demo", "1", "1", "1", "0.000012", "USD"] in rows


def test_the_report_is_for_staff_only(auth_client: Client) -> None:
    r = auth_client.get("/admin/chat/usagerecord/report/")
    assert r.status_code == 302
    assert "/admin/login/" in r["Location"]


def test_a_price_is_set_for_a_known_model_only(admin_client: Client) -> None:
    r = admin_client.post(
        "/admin/chat/modelprice/add/",
        {"model": "no-such-model", "input_per_million": "1", "output_per_million": "2"},
    )
    assert r.status_code == 200
    assert "Select a valid choice" in r.content.decode()
    r = admin_client.post(
        "/admin/chat/modelprice/add/",
        {"model": "demo", "input_per_million": "1.5", "output_per_million": "2"},
    )
    assert r.status_code == 302
    assert ModelPrice.objects.get().input_per_million == 1.5
