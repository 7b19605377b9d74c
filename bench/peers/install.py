"""Installing the peers, each into a virtualenv of its own, outside the project's `.venv`.

A peer's virtualenv lives in `<peers dir>/<name>-<version>/` (by default
`~/.cache/chat-bench/peers/`; `CHAT_BENCH_PEERS_DIR` or `--peers-dir` moves it). A stamp file
written after a successful install records what was installed, so a second call returns at
once; a different version or an interrupted install starts over in a fresh virtualenv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

STAMP = ".bench-installed"


@dataclass(frozen=True)
class Install:
    """What a peer needs: pip install steps in order, and the program that starts it."""

    name: str
    version: str
    steps: tuple[tuple[str, ...], ...]
    program: str

    def folder(self, root: Path) -> Path:
        return root / f"{self.name}-{self.version}"

    def executable(self, root: Path) -> Path:
        return self.folder(root) / "bin" / self.program

    def stamp_text(self) -> str:
        return "\n".join(" ".join(step) for step in self.steps) + "\n"

    def installed(self, root: Path) -> bool:
        stamp = self.folder(root) / STAMP
        return (
            stamp.is_file()
            and stamp.read_text() == self.stamp_text()
            and self.executable(root).exists()
        )


def default_root() -> Path:
    configured = os.environ.get("CHAT_BENCH_PEERS_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "chat-bench" / "peers"


def base_python() -> str:
    """The interpreter the project's virtualenv was made from (not the virtualenv's own)."""
    return getattr(sys, "_base_executable", "") or sys.executable


def ensure(spec: Install, root: Path, python: str | None = None) -> Path:
    """Install `spec` unless it already is; returns its virtualenv's folder."""
    folder = spec.folder(root)
    if spec.installed(root):
        return folder
    if folder.exists():
        shutil.rmtree(folder)  # a different or unfinished install: start clean
    folder.parent.mkdir(parents=True, exist_ok=True)
    log = folder.parent / f"{spec.name}-{spec.version}-install.log"
    print(f"installing {spec.name} {spec.version} into {folder} (log: {log})", flush=True)
    started = time.monotonic()
    with log.open("w") as out:
        _call([python or base_python(), "-m", "venv", str(folder)], out, log)
        pip = [str(folder / "bin" / "python"), "-m", "pip"]
        _call([*pip, "install", "--upgrade", "pip"], out, log)
        for step in spec.steps:
            print(f"  pip install {' '.join(step)}", flush=True)
            _call([*pip, "install", *step], out, log)
    if not spec.executable(root).exists():
        raise RuntimeError(f"{spec.name}: no {spec.program} in {folder}/bin after installing")
    (folder / STAMP).write_text(spec.stamp_text())
    print(f"  {spec.name} installed in {time.monotonic() - started:.0f} s", flush=True)
    return folder


def _call(args: list[str], out: object, log: Path) -> None:
    done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{tail}")
