"""Serve the replica over real HTTP on 127.0.0.1, and run that server from tests.

Why Twisted and not ``python -m http.server``: the crawler's tests and benchmarks
need HTTP/1.1 with keep-alive, real 404s and correct content types; the stdlib
server speaks HTTP/1.0 without keep-alive and slows a local crawl (LESSONS.md).
Twisted comes with Scrapy. Files are opened on each request, so the site can be
rebuilt in place while it is served.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Any, Self

LISTENING_PREFIX = "listening on "
START_TIMEOUT = 20.0  # seconds to wait for the server's "listening on" line
STOP_TIMEOUT = 5.0
CONTENT_TYPES = {
    ".shtml": "text/html; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".jsonl": "application/json; charset=utf-8",
}


def site_dir_of(path: Path) -> Path:
    """The site folder for a replica root (``root/site``) or a site folder itself."""
    path = Path(path)
    return path / "site" if (path / "site").is_dir() else path


def serve(site_dir: Path, host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve ``site_dir`` until SIGTERM or SIGINT; print the address once listening."""
    from twisted.internet import reactor
    from twisted.web import resource, server, static

    class SiteFile(static.File):
        contentTypes = {**static.File.contentTypes, **CONTENT_TYPES}  # noqa: RUF012

        def directoryListing(self) -> resource.Resource:
            # The site lists no directories: a folder without index.shtml is a 404.
            return resource.NoResource("File not found.")

    class QuietSite(server.Site):
        def log(self, request: Any) -> None:
            pass  # an access log per request would cost more than serving the file

    root = SiteFile(str(Path(site_dir).resolve()), defaultType="application/octet-stream")
    root.indexNames = ["index.shtml"]
    listening = reactor.listenTCP(port, QuietSite(root), interface=host)  # type: ignore[attr-defined]
    sys.stdout.write(f"{LISTENING_PREFIX}http://{host}:{listening.getHost().port}\n")
    sys.stdout.flush()
    reactor.run()  # type: ignore[attr-defined]  # stops on SIGTERM/SIGINT


class Served(ABC):
    """A server as a context manager: ``start()`` on entry, ``stop()`` on exit."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ReplicaServer(Served):
    """``python -m replica serve`` in a subprocess, as a context manager.

    >>> with ReplicaServer(root) as server:
    ...     urllib.request.urlopen(server.base_url + "/news/politics/index.shtml")
    """

    def __init__(self, root_or_site_dir: Path | str, host: str = "127.0.0.1") -> None:
        self.site_dir = site_dir_of(Path(root_or_site_dir))
        self.host = host
        self.base_url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> Self:
        package_root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "replica", "serve", str(self.site_dir)]
        cmd += ["--host", self.host, "--port", "0"]
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._proc.stdout
        assert stdout is not None

        def read() -> None:  # a thread: readline has no timeout
            for line in stdout:
                lines.put(line)
            lines.put("")

        self._reader = threading.Thread(target=read, name="replica-server-stdout", daemon=True)
        self._reader.start()
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise RuntimeError(
                f"replica server did not start within {START_TIMEOUT:.0f} s"
            ) from None
        if not line.startswith(LISTENING_PREFIX):
            self.stop()
            raise RuntimeError(f"replica server failed to start: {line!r}")
        self.base_url = line[len(LISTENING_PREFIX) :].strip()
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # The reader thread ends at the pipe's end of file; close the pipe after it.
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT)
            self._reader = None
        if proc.stdout is not None:
            proc.stdout.close()
