"""Numbers about processes and the machine, read from /proc: CPU, memory, threads, files."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a whole process (threads included, live or ended)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and all its descendants: each live one's utime + stime, plus the
    cutime + cstime of the children it has reaped (so every process counts once)."""
    return trees_cpu_seconds([pid])[pid]


def trees_cpu_seconds(pids: list[int]) -> dict[int, float]:
    """tree_cpu_seconds of several processes, from one reading of /proc."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    children: dict[int, list[int]] = {}
    for child, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(child)
    totals: dict[int, float] = {}
    for pid in pids:
        total, todo = 0, [pid]
        while todo:
            current = todo.pop()
            mine = stats.get(current)
            if mine is None:
                continue
            total += sum(int(f) for f in mine[11:15])
            todo.extend(children.get(current, ()))
        totals[pid] = total / CLK_TCK
    return totals


def machine_cpu_seconds() -> float:
    """CPU time spent by every process on the machine (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def status_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def rss_kb(pid: int) -> int:
    return status_field(pid, "VmRSS")


def threads(pid: int) -> int:
    return status_field(pid, "Threads")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
