"""`python -m chatsite.serve`: daphne on uvloop unless CHAT_UVLOOP=false."""

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
