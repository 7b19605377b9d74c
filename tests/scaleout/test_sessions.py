"""Sessions are read from a cache (chatsite/settings.py): with several processes it is Redis,
shared, so that signing out through one process ends the session in every process, as it
would with sessions read from the database alone."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth.models import User

from tests.support.daphne import Daphne

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_and_redis"),
]

PASSWORD = "a-long-unusual-passphrase-71"


def test_signing_out_through_one_process_ends_the_session_in_the_other(
    pair: tuple[Daphne, Daphne],
) -> None:
    User.objects.create_user("olga", password=PASSWORD)
    a, b = pair
    with httpx.Client(base_url=a.url) as on_a:
        page = on_a.get("/accounts/login/")
        token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        form = {"username": "olga", "password": PASSWORD, "csrfmiddlewaretoken": token}
        assert on_a.post("/accounts/login/", data=form).status_code == 302
        cookies = dict(on_a.cookies)
        with httpx.Client(base_url=b.url, cookies=cookies) as on_b:
            for _ in range(2):  # read through the other process, and so cached there too
                assert on_b.get("/api/conversations").status_code == 200
            signed_out = on_a.post(
                "/accounts/logout/", headers={"X-CSRFToken": on_a.cookies["csrftoken"]}
            )
            assert signed_out.status_code == 302
            assert on_b.get("/api/conversations").status_code == 401
            assert on_a.get("/api/conversations").status_code == 401
