"""`python -m chatsite.serve`: daphne on uvloop unless CHAT_UVLOOP=false, the site imported and
frozen out of the garbage collector's passes first."""

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
