"""The processes under test and their environment: the fake upstream, daphne, the database.

Daphne is pinned to core 0 and the load client and fake upstream to core 1 (on a 2-core
machine), so the harness never steals the server's core and the server never steals the
harness's; all of them run at nice -20 when allowed, so that other work on a shared machine
disturbs the measurement less (how much other work ran is measured and reported). Numbers
about a process come from /proc: CPU (utime + stime), RSS, threads.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.procstat import machine_cpu_seconds, tree_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPUS = {0}
HARNESS_CPUS = {1}
NICE = -20  # favour the measured processes over other work on the machine (root only)
CSRF = "b" * 32
MODEL = "openai:bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def place(cpus: set[int]) -> None:
    """Pin this process to `cpus` (on a machine with two cores or more) and raise its
    priority if allowed; children and threads started later inherit both.

    With the kernel's autogroup scheduling (Debian's default) a process's nice value only
    counts within its session, and sessions share the CPU equally; so the process runs in a
    session of its own (the caller makes sure) whose autogroup gets the nice value too."""
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, cpus)
    with contextlib.suppress(PermissionError):
        os.setpriority(os.PRIO_PROCESS, 0, NICE)
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(NICE))


def pin_self() -> None:
    place(HARNESS_CPUS)


def rerun_in_own_session(module: str, argv: list[str]) -> int | None:
    """Run `python -m module argv` again as the leader of a new session, so that raising its
    priority (see place) leaves the caller's terminal session alone. Returns its exit code,
    or None when this process already leads its own session."""
    if os.getsid(0) == os.getpid():
        return None
    child = subprocess.Popen([sys.executable, "-m", module, *argv], start_new_session=True)
    try:
        return child.wait()
    except KeyboardInterrupt:
        os.killpg(child.pid, signal.SIGINT)
        return child.wait()


def wait_quiet(own_pids: list[int], limit: float = 0.15, patience: float = 300.0) -> float:
    """Wait (at most `patience` s) until processes other than ours use under `limit` cores
    over a one-second window; returns the foreign load last seen, in cores."""
    deadline = time.monotonic() + patience
    waited = False
    while True:
        own = sum(tree_cpu_seconds(p) for p in own_pids) + _self_cpu()
        machine, t0 = machine_cpu_seconds(), time.monotonic()
        time.sleep(1.0)
        own = sum(tree_cpu_seconds(p) for p in own_pids) + _self_cpu() - own
        foreign = (machine_cpu_seconds() - machine - own) / (time.monotonic() - t0)
        if foreign < limit or time.monotonic() > deadline:
            if waited:
                print(f"  (machine quiet enough: {foreign:.2f} cores used by others)", flush=True)
            return foreign
        if not waited:
            print(f"  waiting for a quiet machine ({foreign:.2f} cores used by others)", flush=True)
            waited = True


def _self_cpu() -> float:
    times = os.times()
    return times.user + times.system


class Process:
    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        cpus: set[int],
        cwd: Path = ROOT,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self.name = name
        self.log_path = Path(env["BENCH_WORKDIR"]) / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: place(cpus),
            start_new_session=True,
            pass_fds=pass_fds,
        )
        self.pid = self.popen.pid

    def wait_port(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen on {port}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the process group it leads (it and any children it started), then
        SIGKILL after `timeout` seconds."""
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.popen.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # children left behind, if any
        self.log.close()

    def _signal_group(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            self.popen.send_signal(sig)


def site_env(
    workdir: Path, upstream_port: int, settings: str = "chatsite.settings"
) -> dict[str, str]:
    skip = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(
        {
            "BENCH_WORKDIR": str(workdir),
            "DJANGO_SETTINGS_MODULE": settings,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-any-deployment-0123456789",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SSL_REDIRECT": "false",  # plain HTTP on loopback; TLS is not measured
            "SQLITE_PATH": str(workdir / "bench.sqlite3"),
            "OPENAI_API_KEY": "bench-key",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
            "OPENAI_MODELS": "bench",
            "CHAT_MAX_CONCURRENT_REPLIES": "5000",
            # One user drives every stream: the per-user limits would refuse most of them.
            "CHAT_MESSAGES_PER_MINUTE": "100000",
            "CHAT_CONVERSATIONS_PER_MINUTE": "100000",
            "CHAT_MAX_STREAMS_PER_USER": "100000",
            # Each measured reply opens a new conversation; a title request after each would
            # double the upstream calls the relay is measured on (titles come once per
            # conversation in real use).
            "CHAT_TITLE_MODEL": "off",
            "CHAT_FIRST_BYTE_TIMEOUT": "600",
            "CHAT_IDLE_TIMEOUT": "600",
            "CHAT_LOG_LEVEL": "WARNING",
            # Streams end after this by design (the page reconnects); idle streams must outlive
            # the time it takes to open 2,000 of them.
            "CHAT_STREAM_MAX_AGE": "3600",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def start_upstream(workdir: Path, port: int) -> Process:
    env = {**os.environ, "BENCH_WORKDIR": str(workdir)}
    proc = Process(
        "fake-upstream",
        [sys.executable, "-m", "bench.fake_upstream", "--port", str(port)],
        env,
        HARNESS_CPUS,
    )
    proc.wait_port(port)
    return proc


def start_daphne(env: dict[str, str], port: int, name: str = "daphne") -> Process:
    args = [sys.executable, "-m", "chatsite.serve", "-b", "127.0.0.1", "-p", str(port)]
    proc = Process(name, [*args, "chatsite.asgi:application"], env, SERVER_CPUS)
    proc.wait_port(port)
    return proc


def setup_django(env: dict[str, str]) -> None:
    """Use the bench database from this process too (users, sessions, conversations)."""
    for key in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "SQLITE_PATH"):
        os.environ[key] = env[key]
    os.environ["DJANGO_ALLOWED_HOSTS"] = env["DJANGO_ALLOWED_HOSTS"]
    # The load client's short ORM calls (conversations between rounds) block its loop on
    # purpose; the server processes never get this variable (see site_env).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def login_session(username: str = "bench") -> tuple[int, str]:
    """A user and a logged-in session key, made the way the tests do."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    user, _ = User.objects.get_or_create(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return user.pk, session.session_key or ""


def new_conversations(user_id: int, count: int) -> list[int]:
    from chat.models import Conversation

    made = Conversation.objects.bulk_create(
        [Conversation(owner_id=user_id, model=MODEL, title="bench") for _ in range(count)]
    )
    return [c.pk for c in made]


def site_headers(port: int, session_key: str) -> dict[str, str]:
    return {
        "Cookie": f"sessionid={session_key}; csrftoken={CSRF}",
        "X-CSRFToken": CSRF,
        "Referer": f"http://127.0.0.1:{port}/",
        "Content-Type": "application/json",
    }


def spec(**fields: object) -> bytes:
    """The POST body of a message whose content tells the fake upstream what to send."""
    return json.dumps({"content": json.dumps(fields)}).encode()
