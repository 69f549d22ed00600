"""Peak resident memory of a server and the processes it started, from Linux's /proc.

VmHWM is the kernel's own high-water mark of a process's resident set, so reading it once at the
end of a run gives the peak without sampling (and without psutil, which the project doesn't install).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

PROC = Path("/proc")


def status_fields(pid: int) -> Dict[str, str]:
    fields = {}
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def process_tree(pid: int) -> List[int]:
    """`pid` and every process below it, children of children included."""
    children: Dict[int, List[int]] = defaultdict(list)
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                children[int(status_fields(int(entry.name))["PPid"])].append(int(entry.name))
            except (OSError, KeyError, ValueError):  # gone meanwhile, or a kernel thread
                continue
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children[current])
    return tree


@dataclass
class PeakMemory:
    """The sum of each process's own peak: an upper bound if the peaks came at different times."""

    mib: float
    processes: int


def peak_rss(pid: int) -> PeakMemory:
    total_kib = processes = 0
    for member in process_tree(pid):
        try:
            value = status_fields(member).get("VmHWM", "0 kB")
        except OSError:  # exited since the tree was read
            continue
        total_kib += int(value.split()[0])
        processes += 1
    return PeakMemory(round(total_kib / 1024, 1), processes)
