"""Sampling profiles of daphne under load with py-spy, and a summary of where time goes.

py-spy writes collapsed stacks (`--format raw`: `frame;frame;... count` per line, root
first); the summary gives each function's self and inclusive share of the samples, and the
share of a few groups (JSON, SSE framing, the channel layer, Twisted's HTTP, asyncio, ORM).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.site import HARNESS_CPUS, place

GROUPS = {  # by the first component of the file path py-spy prints
    "the site's own code (chat/)": ("chat/", "chatsite/"),
    "channel layer + asgiref": ("channels/", "asgiref/"),
    "daphne + twisted (HTTP server)": ("daphne/", "twisted/"),
    "django (request handling, ORM)": ("django/",),
    "sqlite3": ("sqlite3/",),
    "httpx/httpcore/h11/anyio (upstream client)": ("httpx/", "httpcore/", "h11/", "anyio/"),
    "asyncio + selectors (event loop)": ("asyncio/", "selectors.py"),
    "json": ("json/",),
    "copy (deepcopy)": ("copy.py",),
}
# Leaves that mean "waiting", not working (py-spy can count a thread blocked in a syscall).
IDLE_LEAVES = (
    "EpollSelector.select",
    "select (selectors",
    "_worker (concurrent",
    "wait (threading",
)
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]+)(?::\d+)?\)$")


def pyspy() -> str | None:
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


def start(pid: int, out: Path, seconds: float, rate: int = 500) -> list[subprocess.Popen[bytes]]:
    """A collapsed-stack record and a flame graph of the same window (two samplers)."""
    exe = pyspy()
    if exe is None:
        raise RuntimeError("py-spy is not installed: pip install -e '.[bench]'")
    base = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds) + 1)]
    # --gil: sample the thread holding the GIL (the one running Python), so waiting threads
    # and an idle event loop are not counted; --nonblocking: never pause the server.
    base += ["--rate", str(rate), "--gil", "--nonblocking"]
    quiet = {
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "preexec_fn": lambda: place(HARNESS_CPUS),
    }
    return [
        subprocess.Popen([*base, "--format", "raw", "-o", str(out.with_suffix(".txt"))], **quiet),  # type: ignore[call-overload]
        subprocess.Popen([*base, "-o", str(out.with_suffix(".svg"))], **quiet),  # type: ignore[call-overload]
    ]


def _split(frame: str) -> tuple[str, str]:
    m = _FRAME.match(frame)
    if not m:
        return frame, ""
    return m["func"], m["file"]


def _short(frame: str) -> str:
    func, path = _split(frame)
    for marker in ("/site-packages/", "/lib/python3.11/", "/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{func} ({path})"


def summarise(raw: Path, top: int = 15) -> dict[str, object]:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames or frames[-1].startswith(IDLE_LEAVES):
            continue
        total += count
        self_time[_short(frames[-1])] += count
        for frame in set(frames):
            inclusive[_short(frame)] += count
        leaf_path = _split(frames[-1])[1]
        for group, markers in GROUPS.items():
            if leaf_path.startswith(markers):
                groups[group] += count
                break
        else:
            groups["other (C code, stdlib)"] += count

    def share(counter: Counter[str], n: int) -> list[tuple[str, float]]:
        return [(k, round(100 * v / max(1, total), 1)) for k, v in counter.most_common(n)]

    return {
        "samples": total,
        "self_percent": share(self_time, top),
        "inclusive_percent": share(inclusive, top * 2),
        "leaf_group_percent": share(groups, len(GROUPS) + 1),
    }
