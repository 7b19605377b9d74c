"""Environment for the test run, loaded as a pytest plugin (`-p tests.support.testenv` in
pyproject.toml) so it is in place before Django reads its settings.

The daphne processes the tests start inherit the same environment, so the site under test and
the test process agree on models, fake upstream addresses and timeouts.
"""

from __future__ import annotations

import os
import random
import socket

import pytest

# Plain asserts in the shared helpers report their values like a test's own.
pytest.register_assert_rewrite(
    "tests.support.browser",
    "tests.support.clients",
    "tests.support.reply_checks",
    "tests.support.waiting",
)

from tests.support.fakes.scenarios import BY_SOURCE, model_list  # noqa: E402
from tests.support.fakes.spark_scenarios import SCENARIOS as SPARK_SCENARIOS  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reserved_port() -> int:
    """A free port below the kernel's ephemeral range, for a fake server that binds it later
    in the run: a port from that range (what `free_port` returns) can meanwhile become the
    local port of any connection the run makes, or another port-0 listener's, and the fake's
    bind then fails (it did once, for the Spark fake, in 59 tests). Ports below the range are
    only ever taken by asking for them."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        first_ephemeral = int(f.read().split()[0])
    for port in random.sample(range(10_000, first_ephemeral), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


FAKE_PORT = int(os.environ.setdefault("FAKE_UPSTREAM_PORT", str(reserved_port())))
FAKE_URL = f"http://127.0.0.1:{FAKE_PORT}"
# Spark speaks WebSocket: its fake is a server of its own (the spark_upstream fixture).
SPARK_PORT = int(os.environ.setdefault("FAKE_SPARK_PORT", str(reserved_port())))

# Secrets the tests look for in pages, answers and logs (they must never appear).
TEST_KEYS = {
    "OPENAI_API_KEY": "sk-test-0penai-secret-9f8e7d",
    "ANTHROPIC_API_KEY": "sk-ant-test-secret-6c5b4a",
    "GEMINI_API_KEY": "AIza-test-gemini-secret-3f2e",
    "SPARK_API_KEY": "spark-test-key-7d6c5b4a39281706",
    "SPARK_API_SECRET": "c3BhcmstdGVzdC1zZWNyZXQtbm90LXJlYWw=",
}

# Each test run gets its own database and channel prefix, so runs can share a machine.
_RUN = f"{os.getpid()}"
_DEFAULTS = {
    "SQLITE_TEST_PATH": f"/tmp/chatsite-test-{_RUN}.sqlite3",
    "DATABASE_TEST_NAME": f"test_chatsite_{_RUN}",
    "REDIS_PREFIX": f"chat-test-{_RUN}",
    "DJANGO_DEBUG": "true",
    "DJANGO_ALLOW_ASYNC_UNSAFE": "true",  # Playwright's sync API runs an event loop
    "CHAT_DEMO_TOKEN_DELAY": "0.02",
    "CHAT_CHECKPOINT_INTERVAL": "0.5",
    "CHAT_CONNECT_TIMEOUT": "2",
    "CHAT_FIRST_BYTE_TIMEOUT": "3",
    "CHAT_IDLE_TIMEOUT": "3",
    "CHAT_STALE_AFTER": "6",
    "CHAT_PING_INTERVAL": "15",
    "CHAT_MESSAGES_PER_MINUTE": "1000",
    "CHAT_MAX_CONCURRENT_REPLIES": "50",
    # No written titles: a title request would be one more request to a test's fake model.
    # The title tests start sites that write them (tests/titles/, the `titling_daphne`).
    "CHAT_TITLE_MODEL": "off",
    "OPENAI_BASE_URL": f"{FAKE_URL}/v1",
    "ANTHROPIC_BASE_URL": FAKE_URL,
    "GEMINI_BASE_URL": f"{FAKE_URL}/v1beta",
    "SPARK_URL": f"ws://127.0.0.1:{SPARK_PORT}/v3.5/chat",
    "SPARK_APP_ID": "5f3a9c1e",
    **TEST_KEYS,
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)
for _source, _scenarios in BY_SOURCE.items():
    os.environ[_source] = model_list(_scenarios)
os.environ["SPARK_MODELS"] = model_list(SPARK_SCENARIOS)
