"""Logs every SQL statement the server runs, one line each, to $BENCH_QUERY_LOG.

Installed by bench/settings.py only. Each line is `<kind>\\t<origin>`: the statement's first
word (SELECT, INSERT, UPDATE, DELETE, BEGIN, ...) and the innermost frame of the chat app
(or of Django's session/auth code) that ran it, so queries can be told apart by purpose.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable
from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created

_lock = threading.Lock()
_TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _origin() -> str:
    """`inner<outer`: the innermost and outermost frames of the site's own code on the stack."""
    frame = sys._getframe(2)
    found: list[str] = []
    fallback = ""
    while frame is not None:
        path = frame.f_code.co_filename
        rel = path[len(_ROOT) :] if path.startswith(_ROOT) else ""
        if rel.startswith(("chat/", "chatsite/")):
            found.append(f"{rel}:{frame.f_code.co_name}")
        elif not fallback and ("/contrib/sessions/" in path or "/contrib/auth/" in path):
            fallback = "django/" + path.split("/django/", 1)[-1] + f":{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    if found:
        return found[0] if len(found) == 1 else f"{found[0]}<{found[-1]}"
    return fallback or "other"


def _logger(path: str) -> Callable[..., Any]:
    def log_query(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        kind = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        origin = _origin()
        if origin == "other" and (table := _TABLE.search(sql)):
            origin = f"other:{table[1]}"  # e.g. Django's async ORM calls (session, user)
        line = f"{kind}\t{origin}\n"
        with _lock, open(path, "a") as out:
            out.write(line)
        return execute(sql, params, many, ctx)

    log_query.bench_log = True  # type: ignore[attr-defined]
    return log_query


def _install(sender: Any, connection: Any, **kwargs: Any) -> None:
    path = os.environ.get("BENCH_QUERY_LOG")
    # The signal fires on every reconnect of the same wrapper object: install only once.
    if path and not any(getattr(w, "bench_log", False) for w in connection.execute_wrappers):
        connection.execute_wrappers.append(_logger(path))


class QueryLogConfig(AppConfig):
    name = "bench"
    label = "bench_querylog"
    verbose_name = "Benchmark query log"

    def ready(self) -> None:
        connection_created.connect(_install)
