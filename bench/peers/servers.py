"""Starting and stopping the peers against the bench's fake upstream.

Each peer runs as a subprocess of its own virtualenv, placed like daphne (the server core,
the same niceness, a session of its own), with its committed settings from this folder and
the fake upstream's port written into them. Both run offline: the settings switch off
telemetry, update checks, cost-map and model downloads, and their only upstream is the fake
one on 127.0.0.1. Ready means: its health URL answers, and one short streamed reply comes
through it with every stamp.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bench.httpclient import StreamRecord, request
from bench.load import OpenAIEndpoint, openai_reply
from bench.peers import LITELLM, OPENWEBUI
from bench.site import SERVER_CPUS, Process, free_port

HERE = Path(__file__).resolve().parent
CONFIG_PORT = "127.0.0.1:18000"  # the upstream address written in the committed settings
MODEL = "mock-gpt"
LITELLM_KEY = "sk-bench-1234"  # master_key in litellm_config.yaml
ADMIN = {"email": "bench@example.com", "password": "bench-password-1234", "name": "bench"}
T = TypeVar("T")
KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "SSL_CERT_FILE")


@dataclass
class Peer:
    """A running peer and how to ask it for a streamed chat completion."""

    name: str
    version: str
    port: int
    path: str
    headers: dict[str, str]
    process: Process
    model: str = MODEL
    started_s: float = 0.0  # seconds from start to ready
    info: dict[str, object] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.stop(timeout=20)

    def endpoint(self) -> OpenAIEndpoint:
        return OpenAIEndpoint(self.port, self.path, self.headers, self.model)

    def describe(self) -> dict[str, object]:
        return {"version": self.version, "ready_after_s": round(self.started_s, 1), **self.info}


def render(template: Path, upstream_port: int, out: Path) -> Path:
    """The committed settings with the fake upstream's port in place of the default one."""
    text = template.read_text()
    if CONFIG_PORT not in text:
        raise RuntimeError(f"{template} does not name {CONFIG_PORT}")
    out.write_text(text.replace(CONFIG_PORT, f"127.0.0.1:{upstream_port}"))
    return out


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def base_env(venv: Path, workdir: Path) -> dict[str, str]:
    """A small environment: nothing of the site's (no DJANGO_*, no OPENAI_*), no proxies."""
    env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env.update(
        VIRTUAL_ENV=str(venv),
        BENCH_WORKDIR=str(workdir),  # where bench.site.Process writes the log
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_litellm(root: Path, workdir: Path, upstream_port: int) -> Peer:
    venv = LITELLM.folder(root)
    folder = _fresh(workdir / "litellm")
    config = render(HERE / "litellm_config.yaml", upstream_port, folder / "config.yaml")
    env = base_env(venv, workdir)
    env.update(
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # no cost-map download at start
        LITELLM_LOG="ERROR",
        LITELLM_MODE="PRODUCTION",
        DO_NOT_TRACK="1",
    )
    port = free_port()
    args = [str(LITELLM.executable(root)), "--config", str(config)]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    t0 = time.monotonic()
    process = Process("litellm", args, env, SERVER_CPUS, cwd=folder)
    headers = {"Authorization": f"Bearer {LITELLM_KEY}"}
    peer = Peer("litellm", LITELLM.version, port, "/v1/chat/completions", headers, process)
    return _ready(peer, "/health/liveliness", t0)


def start_openwebui(root: Path, workdir: Path, upstream_port: int) -> Peer:
    venv = OPENWEBUI.folder(root)
    folder = _fresh(workdir / "openwebui")
    rendered = render(HERE / "openwebui.env", upstream_port, folder / "openwebui.env")
    env = base_env(venv, workdir)
    env.update(read_env_file(rendered))
    data = folder / "data"  # fresh per run: a new database, so the first signup is the admin
    data.mkdir()
    env["DATA_DIR"] = str(data)
    port = free_port()
    args = [str(OPENWEBUI.executable(root)), "serve", "--host", "127.0.0.1", "--port", str(port)]
    t0 = time.monotonic()
    process = Process("openwebui", args, env, SERVER_CPUS, cwd=folder)
    peer = Peer("openwebui", OPENWEBUI.version, port, "/api/chat/completions", {}, process)
    try:
        _wait_health(peer, "/health", 300)
        token = _sync(_sign_in(port))
    except BaseException:
        peer.stop()
        raise
    peer.headers = {"Authorization": f"Bearer {token}"}
    return _ready(peer, "/health", t0)


def start_forwarder(workdir: Path, upstream_port: int) -> Peer:
    """The bare byte forwarder (bench/forwarder.py): the floor under every relay."""
    env = base_env(Path(sys.prefix), workdir)
    port = free_port()
    args = [sys.executable, "-m", "bench.forwarder", "--port", str(port)]
    t0 = time.monotonic()
    process = Process("forwarder", [*args, "--upstream", str(upstream_port)], env, SERVER_CPUS)
    peer = Peer("forwarder", "-", port, "/v1/chat/completions", {}, process, model="bench")
    return _ready(peer, "/v1/models", t0)


STARTERS = {"litellm": start_litellm, "openwebui": start_openwebui}


def start(name: str, root: Path, workdir: Path, upstream_port: int) -> Peer:
    return STARTERS[name](root, workdir, upstream_port)


def _fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _ready(peer: Peer, health: str, t0: float) -> Peer:
    try:
        _wait_health(peer, health, 300)
        record = _sync(stream_once(peer, {"tokens": 5, "delay_ms": 1}, limit_s=60))
        if sorted(record.recv) != list(range(5)) or not record.ended:
            raise RuntimeError(f"{peer.name}: a test reply came back as {record}")
    except BaseException:
        peer.stop()
        raise
    peer.started_s = time.monotonic() - t0
    return peer


def _wait_health(peer: Peer, path: str, timeout: float) -> None:
    peer.process.wait_port(peer.port, timeout)
    deadline = time.monotonic() + timeout
    seen = "nothing"
    while time.monotonic() < deadline:
        if peer.process.popen.poll() is not None:
            log = peer.process.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{peer.name} exited while starting: {log}")
        try:
            status, _ = _sync(_call(peer.port, "GET", path))
        except OSError as exc:  # listening, but not answering yet
            seen = f"{type(exc).__name__}: {exc}"
        else:
            if status == 200:
                return
            seen = f"status {status}"
        time.sleep(0.25)
    raise RuntimeError(f"{peer.name}: {path} gave {seen} for {timeout:.0f} s")


async def _call(
    port: int, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else b""
    head = {"Content-Type": "application/json", **(headers or {})}
    answer = await request(port, method, path, head, data)
    try:
        return answer.status, await answer.read()
    finally:
        answer.close()


async def _sign_in(port: int) -> str:
    """The first signup on a fresh database makes the admin; sign in if it exists already."""
    status, body = await _call(port, "POST", "/api/v1/auths/signup", ADMIN)
    if status != 200:
        signin = {k: ADMIN[k] for k in ("email", "password")}
        status, body = await _call(port, "POST", "/api/v1/auths/signin", signin)
    if status != 200:
        raise RuntimeError(f"openwebui: signup and signin failed ({status}): {body[:300]!r}")
    return str(json.loads(body)["token"])


async def stream_once(peer: Peer, fields: dict[str, object], limit_s: float) -> StreamRecord:
    """One streamed chat completion through the peer; the spec goes in the user message."""
    return await openai_reply(peer.endpoint(), fields, None, limit_s)


def _sync(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)
