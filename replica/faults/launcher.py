"""Running ``scrapy crawl ecns`` under local faults, watched while it runs.

A crawl of the fault suite is a subprocess, as cron runs it, started through a
small launcher that applies the faults a child must have before it starts (a file
size limit, permissions that apply to root). While it runs, ``Crawl`` samples its
peak resident memory from ``/proc`` (the kernel's high-water mark, ``VmHWM``), can
send it a signal (a graceful stop, or SIGKILL) and kills it when it outlives its
time or its memory grows past what the machine should risk; its CPU time comes from
the kernel when it ends (``wait4``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from replica.faults.server import Hit
from replica.localrun import FAST_LOCAL_SETTINGS, PROJECT_ROOT, scrapy_env

# Every fault run: no politeness delays on 127.0.0.1, a short download timeout so
# that slow answers cost seconds, Scrapy's default of two retries said out loud.
FAULT_SETTINGS = {
    **FAST_LOCAL_SETTINGS,
    "DOWNLOAD_TIMEOUT": "2",
    "RETRY_TIMES": "2",
    "NEWSCRAWL_MAX_RETRY_AFTER": "5",
}
RUN_TIMEOUT = 60.0  # seconds a run may take before it counts as hung (and is killed)
# A crawl whose resident memory passes this is killed: the case has failed its
# memory bound long before, and the machine is shared with the other cases.
RSS_CEILING_MB = 1024.0
TICK = 0.05  # seconds between two looks at a running crawl
DROP_DAC_FAILED = 97  # the launcher's status when it cannot drop root's DAC override

# Runs ``python ARGS`` after applying local faults that must be set in the child
# before it starts: a file size limit (SIGXFSZ ignored, so writes fail with EFBIG
# instead of killing), and for root, file permissions that apply (CAP_DAC_OVERRIDE
# and CAP_DAC_READ_SEARCH dropped from the bounding set). A launcher instead of
# ``preexec_fn``, which is unsafe in a process with threads (the server's). It
# replaces itself with the crawl (``execv``): the crawl keeps its process id.
LAUNCHER = """
import ctypes, os, resource, signal, sys
fsize = int(os.environ.pop("NEWSCRAWL_FAULT_FSIZE", "0") or 0)
if fsize:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
if os.environ.pop("NEWSCRAWL_FAULT_DROP_DAC", ""):
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            sys.stderr.write("fault launcher: cannot drop capability %d\\n" % cap)
            sys.exit(EXIT_CODE)
os.execv(sys.executable, [sys.executable] + sys.argv[1:])
""".replace("EXIT_CODE", str(DROP_DAC_FAILED))

# A full disk under the output folder, for one child: every write to a file in
# ``NEWSCRAWL_FAULT_ENOSPC_DIR`` past ``NEWSCRAWL_FAULT_ENOSPC_BYTES`` bytes in all
# fails with ENOSPC, as the kernel's would. Written as ``sitecustomize.py`` into a
# folder put first on the child's PYTHONPATH.
ENOSPC_HOOK = '''"""Fault injection for newscrawl's fault suite: a full disk under one folder."""
import builtins
import errno
import io
import os

_DIR = os.path.realpath(os.environ["NEWSCRAWL_FAULT_ENOSPC_DIR"])
_LEFT = [int(os.environ["NEWSCRAWL_FAULT_ENOSPC_BYTES"])]
_open = io.open


class _FullDisk(io.FileIO):
    def write(self, data):
        size = memoryview(data).nbytes
        if size > _LEFT[0]:
            _LEFT[0] = 0  # a full disk stays full: the manifest cannot be written either
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.name)
        _LEFT[0] -= size
        return super().write(data)


def _open_full(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
               closefd=True, opener=None):
    writes = any(c in mode for c in "wxa+")
    if writes and isinstance(file, (str, bytes, os.PathLike)):
        folder = os.path.realpath(os.path.dirname(os.fsdecode(os.fspath(file))))
        if folder == _DIR:
            raw = _FullDisk(file, mode.replace("b", "").replace("t", ""), closefd, opener)
            buffered = io.BufferedWriter(raw) if buffering != 0 else raw
            if "b" in mode:
                return buffered
            return io.TextIOWrapper(buffered, encoding or "utf-8", errors, newline)
    return _open(file, mode, buffering, encoding, errors, newline, closefd, opener)


builtins.open = io.open = _open_full
'''

# "Run <id> complete: …; manifest <path>": the line a run ends with (newscrawl.run).
RUN_END_RE = re.compile(r"\] (?:INFO|ERROR): Run (\S+) (?:complete|failed)\b")


@dataclass
class RunResult:
    """One ``scrapy crawl ecns`` of a case."""

    exit_code: int | None  # None: killed by the suite (see ``killed``)
    seconds: float
    stderr: str
    manifest: dict[str, Any] | None  # the manifest this run wrote, if any
    peak_rss_mb: float | None = None  # the crawl process's high-water mark
    cpu_seconds: float | None = None  # its CPU time, user and system
    killed: str | None = None  # why the suite killed it
    signalled: str | None = None  # the signal the case sent it ("SIGTERM")
    stop_seconds: float | None = None  # from that signal to the end of the run
    hits: list[Hit] = field(default_factory=list)  # what the server got during the run
    label: str = ""  # "beside" for a run started while another was running
    started: float = 0.0  # time.monotonic() when it started
    ended: float | None = None  # and when it ended


def crawl_command(
    base_url: str,
    out: Path,
    state: Path,
    spider_args: dict[str, str],
    settings: dict[str, str],
) -> list[str]:
    """``scrapy crawl ecns`` through :data:`LAUNCHER`, with the fault settings."""
    cmd = [sys.executable, "-c", LAUNCHER, "-m", "scrapy", "crawl", "ecns"]
    for key, value in spider_args.items():
        cmd += ["-a", f"{key}={value}"]
    merged = {
        "ECNS_BASE_URL": base_url,
        "NEWSCRAWL_OUTPUT_DIR": str(out),
        "NEWSCRAWL_STATE_DIR": str(state),
        **FAULT_SETTINGS,
        **settings,
    }
    for key, value in merged.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def _status_kb(pid: int, name: str) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(name):
                    return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class Crawl:
    """One crawl in a subprocess, looked at every :data:`TICK` by its caller."""

    def __init__(
        self,
        base_url: str,
        out: Path,
        state: Path,
        *,
        spider_args: dict[str, str],
        settings: dict[str, str],
        env: dict[str, str] | None = None,
        timeout: float = RUN_TIMEOUT,
        stop_within: float | None = None,
        rss_ceiling_mb: float = RSS_CEILING_MB,
        label: str = "",
    ) -> None:
        self.cmd = crawl_command(base_url, out, state, spider_args, settings)
        self.env = scrapy_env(env)
        self.out = out
        self.timeout = timeout
        self.stop_within = stop_within
        self.rss_ceiling_mb = rss_ceiling_mb
        self.label = label
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.ended: float | None = None
        self.peak_kb: float | None = None
        self.cpu_seconds: float | None = None
        self.killed: str | None = None
        self.signalled: str | None = None
        self.signalled_at: float | None = None
        self._stderr: IO[bytes] | None = None
        self._before: set[Path] = set()
        self._after: set[Path] = set()

    def start(self) -> Crawl:
        self._before = set(self.out.glob("*.manifest.json")) if self.out.is_dir() else set()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in result())
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def poll(self) -> bool:
        """Look at the crawl once: its memory, its time; False once it has ended."""
        assert self.proc is not None
        if self.ended is not None:
            return False
        # The crawl's own high-water mark (VmHWM starts again at exec; the kernel's
        # ru_maxrss would also count the forking parent's memory).
        hwm = _status_kb(self.pid, "VmHWM:")
        if hwm is not None:
            self.peak_kb = max(self.peak_kb or 0.0, hwm)
        if self._reap(block=False):
            return False
        rss = _status_kb(self.pid, "VmRSS:")
        if rss is not None and rss / 1024 > self.rss_ceiling_mb:
            self.kill(f"resident memory passed {self.rss_ceiling_mb:.0f} MB")
        elif self.elapsed > self.timeout:
            self.kill(f"still running after {self.timeout:.0f} s")
        elif (
            self.signalled_at is not None
            and self.stop_within is not None
            and time.monotonic() - self.signalled_at > self.stop_within
        ):
            self.kill(f"still running {self.stop_within:.0f} s after {self.signalled}")
        return self.ended is None

    def send(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the crawl (once)."""
        if self.signalled is None and self.ended is None:
            self.signalled, self.signalled_at = sig.name, time.monotonic()
            os.kill(self.pid, sig)

    def kill(self, why: str) -> None:
        assert self.proc is not None
        self.killed = why
        self.proc.kill()
        self._reap(block=True)

    def _reap(self, *, block: bool) -> bool:
        """Collect the ended crawl's status and CPU time; False while it runs."""
        assert self.proc is not None
        pid, status, usage = os.wait4(self.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return False
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.ended = time.monotonic()
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self._after = set(self.out.glob("*.manifest.json")) if self.out.is_dir() else set()
        return True

    def wait(self) -> RunResult:
        while self.poll():
            time.sleep(TICK)
        return self.result()

    def result(self) -> RunResult:
        assert self.proc is not None and self._stderr is not None and self.ended is not None
        self._stderr.seek(0)
        stderr = self._stderr.read().decode("utf-8", "replace")
        self._stderr.close()
        code = None if self.killed else self.proc.returncode
        stop = None if self.signalled_at is None else self.ended - self.signalled_at
        peak = None if self.peak_kb is None else self.peak_kb / 1024
        return RunResult(
            code,
            self.ended - self.started,
            stderr,
            self._manifest(stderr),
            peak_rss_mb=peak,
            cpu_seconds=self.cpu_seconds,
            killed=self.killed,
            signalled=self.signalled,
            stop_seconds=stop,
            label=self.label,
            started=self.started,
            ended=self.ended,
        )

    def _manifest(self, stderr: str) -> dict[str, Any] | None:
        """The manifest this run wrote: the one its last log line names, else the
        newest one that appeared while it ran."""
        if not self.out.is_dir():
            return None
        ended = RUN_END_RE.findall(stderr)
        if ended:
            candidates = [self.out / f"{ended[-1]}.manifest.json"]
        else:
            candidates = sorted(self._after - self._before)[-1:]
        for path in candidates:
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
        return None


def run_crawl(
    base_url: str,
    out: Path,
    state: Path,
    *,
    spider_args: dict[str, str],
    settings: dict[str, str],
    env: dict[str, str] | None = None,
    timeout: float = RUN_TIMEOUT,
) -> RunResult:
    """``scrapy crawl ecns`` in a subprocess through :data:`LAUNCHER`, as cron runs it,
    to its end."""
    crawl = Crawl(
        base_url, out, state, spider_args=spider_args, settings=settings, env=env, timeout=timeout
    )
    return crawl.start().wait()
