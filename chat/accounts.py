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
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare

from chat import rows


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


def signed_in_user(session: SessionBase) -> Any | None:
    """The session's user, when it is signed in and verified with the current secret, as
    django.contrib.auth.get_user finds it then; None for anything else (no user, an unknown or
    inactive one, a password changed since, a session of an older secret), for Django's own
    get_user to answer as it does. Sync.

    With Django's ModelBackend the user is read by chat/rows.py, as that backend reads it: every
    API request and every event stream reads the user, and the ORM built the query anew each
    time (0.18 ms of Python against 0.03)."""
    try:
        user_id, backend_path = session[SESSION_KEY], session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    backend = load_backend(backend_path)
    if type(backend) is ModelBackend:
        model = get_user_model()
        try:
            user = rows.get(model, model._meta.pk.to_python(user_id))
        except ValidationError:
            return None
        if user is not None and not backend.user_can_authenticate(user):
            user = None
    else:
        user = backend.get_user(user_id)
    kept_hash = session.get(HASH_SESSION_KEY)
    if user is None or not kept_hash:
        return None
    if not constant_time_compare(kept_hash, user.get_session_auth_hash()):
        return None
    return user
