"""A daphne process serving the site against the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from tests.support.testenv import free_port

ROOT = Path(__file__).resolve().parents[2]


def _database_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"])}
    url = os.environ["DATABASE_URL"]
    base = url.rsplit("/", 1)[0]
    return {"DATABASE_URL": f"{base}/{db['NAME']}"}


class Daphne:
    """A daphne process serving the site against the test database."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env or {}  # its settings that differ from the test run's
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ROOT / "test-artifacts" / f"daphne-{self.port}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        full_env = {**os.environ, **_database_env(), **self.env}
        full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatsite.serve",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "chatsite.asgi:application",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log_path.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("daphne did not start")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
