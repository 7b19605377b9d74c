"""`python -m chatsite.serve`: daphne on uvloop unless CHAT_UVLOOP=false, the site imported and
frozen out of the garbage collector's passes first, and glibc's malloc arenas capped at
CHAT_MALLOC_ARENAS (one) unless MALLOC_ARENA_MAX says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = (
    "from chatsite.serve import use_uvloop; use_uvloop(); "
    "import daphne.server; print(type(daphne.server.twisted_loop).__module__)"
)


@pytest.mark.parametrize(("setting", "loop"), [("true", "uvloop"), ("false", "asyncio")])
def test_daphne_runs_on_the_chosen_loop(setting: str, loop: str) -> None:
    env = {**os.environ, "CHAT_UVLOOP": setting}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().split(".")[0] == loop


FREEZE_PROBE = (
    "import gc; from chatsite.serve import freeze_startup_objects; "
    "before = gc.get_freeze_count(); freeze_startup_objects(); import sys; "
    "print(before, gc.get_freeze_count(), 'chat.api' in sys.modules, 'chat.stream' in sys.modules)"
)


def test_the_site_is_imported_and_frozen_before_daphne_starts() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatsite.settings"}
    out = subprocess.run(
        [sys.executable, "-c", FREEZE_PROBE], env=env, capture_output=True, text=True, check=True
    )
    before, after, api, stream = out.stdout.split()
    assert int(before) == 0 and int(after) > 50_000  # Django and the site: out of the GC's way
    assert api == stream == "True"  # the views were imported before the freeze


ARENA_PROBE = """
import ctypes, threading
from chatsite.serve import limit_malloc_arenas
print(limit_malloc_arenas())
together = threading.Barrier(4)
def work():
    together.wait()
    kept = [bytes(2000) for _ in range(200)]  # above pymalloc's limit: glibc's malloc
    together.wait()
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(None).malloc_stats()  # one "Arena n:" section per arena, on stderr
"""


@pytest.mark.parametrize(
    ("env", "cap", "shared"),
    [({}, "1", True), ({"CHAT_MALLOC_ARENAS": "0"}, "None", False)],
)
def test_threads_share_one_malloc_arena_unless_told_otherwise(
    env: dict[str, str], cap: str, shared: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    out = subprocess.run(
        [sys.executable, "-c", ARENA_PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == cap
    arenas = out.stderr.count("Arena ")
    assert arenas == 1 if shared else arenas > 1


def test_malloc_arena_max_is_left_to_glibc() -> None:
    env = {**os.environ, "MALLOC_ARENA_MAX": "3"}
    out = subprocess.run(
        [sys.executable, "-c", ARENA_PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "None"
    assert 1 < out.stderr.count("Arena ") <= 3


def test_a_bad_arena_count_stops_the_server_with_the_variables_name() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env["CHAT_MALLOC_ARENAS"] = "many"
    out = subprocess.run(
        [sys.executable, "-m", "chatsite.serve", "--help"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 1
    assert "CHAT_MALLOC_ARENAS must be a whole number" in out.stderr and "'many'" in out.stderr
