"""Logging in: who a client is (its address), and what a locked-out one reads.

Failed logins are counted by django-axes per account-and-address pair (settings.py,
"Accounts"): after CHAT_LOGIN_FAILURES failures that pair is refused for CHAT_LOGIN_LOCK
minutes; the same account from another address, and other accounts from the same address,
log in as usual, so locking one pair never locks everyone out. An administrator lifts a lock
in the admin (Axes > Access attempts: delete the pair's row) or with
`manage.py axes_reset_username <name>`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind CHAT_TRUSTED_PROXIES proxies (nginx), the
    address the nearest of them saw in X-Forwarded-For (earlier entries can be forged)."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.CHAT_TRUSTED_PROXIES
    if not proxies:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    return hops[-proxies] if len(hops) >= proxies else remote


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """What a locked-out login attempt gets: the login page's look, the reason, 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
