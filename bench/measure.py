"""Run one process and measure what it cost: wall time, CPU time, peak RSS.

Why a process of its own for every measurement: the crawler runs as
``scrapy crawl`` in production, so its CPU and memory are those of one process,
start-up included. ``os.wait4`` returns the kernel's exact CPU accounting of the
reaped child (user + system), with no dependency (psutil is not installed).

Peak RSS is *not* taken from ``wait4``: Linux records in ``ru_maxrss`` the RSS of
the image a child replaced at ``exec``, and Python spawns with ``vfork``, so a
child reports at least its parent's RSS (a benchmark that has just built a
replica in memory would make every crawl look 200 MB+). ``VmHWM`` in
``/proc/<pid>/status`` is the high-water mark of the child's own address space;
it is read every few milliseconds while the child runs, and the last reading is
its peak (to within the last interval). An optional sampler sees each reading,
e.g. to know the peak when the crawl passes 10,000 items.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

POLL_INTERVAL = 0.01  # seconds between polls (exit, VmHWM) while a process runs


@dataclass(frozen=True, slots=True)
class Cost:
    """What one process cost, from ``os.wait4`` (exact, kernel-accounted)."""

    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mb: float  # VmHWM, the child's own peak RSS
    returncode: int

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def proc_status(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak RSS so far) of a live process, in kB; empty
    when the process is gone."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    found[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return {}
    return found


def run_measured(
    cmd: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_path: Path,
    timeout: float,
    sampler: Callable[[int, dict[str, int]], None] | None = None,
) -> Cost:
    """Run ``cmd`` to its end; stdout and stderr go to ``log_path``.

    ``sampler(pid, status)`` is called at every poll with the ``/proc`` reading
    (``VmRSS``, ``VmHWM`` in kB). Raises ``TimeoutError`` (after killing the
    process) past ``timeout``.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    peak_kb = 0
    with log_path.open("wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            while True:
                status = proc_status(proc.pid)
                pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if status:
                    peak_kb = max(peak_kb, status.get("VmHWM", 0))
                    if sampler is not None:
                        sampler(proc.pid, status)
                if time.perf_counter() - started > timeout:
                    os.kill(proc.pid, signal.SIGKILL)
                    _, wait_status, usage = os.wait4(proc.pid, 0)
                    proc.returncode = os.waitstatus_to_exitcode(wait_status)
                    raise TimeoutError(f"{cmd[:4]} still running after {timeout:.0f} s")
                time.sleep(POLL_INTERVAL)
        except BaseException:
            if proc.returncode is None:
                proc.kill()
                proc.wait()
            raise
        wall = time.perf_counter() - started
        # Reaped by wait4: tell Popen, so it neither waits again nor warns.
        proc.returncode = os.waitstatus_to_exitcode(wait_status)
    return Cost(
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        max_rss_mb=peak_kb / 1024,
        returncode=proc.returncode,
    )


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return float("nan")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
