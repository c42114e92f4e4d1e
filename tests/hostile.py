"""A server on 127.0.0.1 for the stop, limits and robots.txt tests: it serves a built
replica's files and answers the paths a test names its own hostile way (never,
too much, forever, compressed into a bomb, or a status).

Runs in a thread of the test process, so a test sees each request as it comes
(``wait_for``) and decides when to signal the crawl.
"""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from replica.server import CONTENT_TYPES

HTML_UTF8 = "text/html; charset=utf-8"
Answer = Callable[["Handler"], None]
LISTING_LINK = re.compile(rb'<li><h3><a href="([^"]*)"')


def story_paths(site: Path, listing: str) -> list[str]:
    """The story paths a listing page of the replica links to, in listing order."""
    page = (site / listing.lstrip("/")).read_bytes()
    return [urlsplit(href.decode()).path for href in LISTING_LINK.findall(page)]


@dataclass(frozen=True)
class Hit:
    at: float
    path: str


class _Server(http.server.ThreadingHTTPServer):
    owner: HostileServer
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that give up or are cut off are what these tests make happen


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self.server.owner.handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        all_headers = {"Content-Type": HTML_UTF8, "Content-Length": str(len(body))}
        all_headers.update(headers or {})
        for name, value in all_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class HostileServer:
    """Serves ``site``; ``answers[path]`` answers that path instead (every time)."""

    def __init__(self, site: Path) -> None:
        self.site = site.resolve()
        self.answers: dict[str, Answer] = {}
        self.hits: list[Hit] = []
        self.released = threading.Event()  # hung answers give up once set
        self._seen = threading.Condition()
        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd.owner = self
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def wait_for(self, path: str, timeout: float = 30.0) -> float:
        """Block until ``path`` was requested; the time of its first request."""
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for hit in self.hits:
                    if hit.path == path:
                        return hit.at
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{path} was not requested within {timeout} s")
                self._seen.wait(left)

    def handle(self, req: Handler) -> None:
        path = urlsplit(req.path).path
        with self._seen:
            self.hits.append(Hit(time.monotonic(), path))
            self._seen.notify_all()
        answer = self.answers.get(path)
        try:
            if answer is not None:
                answer(req)
            else:
                self._file(req, path)
        except OSError:
            req.close_connection = True  # the crawler cut the connection

    def _file(self, req: Handler, path: str) -> None:
        target = (self.site / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.shtml"
        if not target.is_relative_to(self.site) or not target.is_file():
            req.send(404, b"<html><body><h1>404 Not Found</h1></body></html>")
            return
        ctype = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
        req.send(200, target.read_bytes(), {"Content-Type": ctype})

    # -- answers -------------------------------------------------------------------

    def hang(self) -> Answer:
        """Read the request, never answer (until the server stops)."""

        def answer(req: Handler) -> None:
            self.released.wait()
            req.close_connection = True

        return answer

    @staticmethod
    def status(code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Answer:
        page = body or f"<html><body><h1>{code}</h1></body></html>".encode()

        def answer(req: Handler) -> None:
            req.send(code, page, headers)

        return answer

    @staticmethod
    def hang_up(req: Handler) -> None:
        """Close the connection without answering."""
        req.close_connection = True

    @staticmethod
    def body(data: bytes, headers: dict[str, str] | None = None) -> Answer:
        def answer(req: Handler) -> None:
            req.send(200, data, headers)

        return answer

    def sized(self, size: int, page: bytes = b"") -> Answer:
        """``page`` (an article of the replica) padded to ``size`` bytes before its
        ``</body>`` with short paragraphs, as the replica's ``huge`` fault pads pages,
        with its Content-Length; written in blocks of ~64 KiB, never held whole."""
        line = b"<p>Archive padding line for a very large page, not part of any story.</p>\n"
        block = line * (65536 // len(line))
        at = page.rfind(b"</body>")
        head, tail = (page[:at], page[at:]) if at >= 0 else (page, b"")

        def answer(req: Handler) -> None:
            req.send_response(200)
            req.send_header("Content-Type", HTML_UTF8)
            req.send_header("Content-Length", str(size))
            req.end_headers()
            req.wfile.write(head)
            left = size - len(head) - len(tail)
            while left > 0 and not self.released.is_set():
                chunk = block[: min(left, len(block))]
                req.wfile.write(chunk)
                left -= len(chunk)
            req.wfile.write(tail)
            req.close_connection = True

        return answer

    def endless_chunked(self) -> Answer:
        """``Transfer-Encoding: chunked`` with no end: 64 KiB chunks until the client
        goes away."""
        block = b"<p>" + b"y" * (65536 - 8) + b"</p>\n"
        frame = f"{len(block):x}\r\n".encode() + block + b"\r\n"

        def answer(req: Handler) -> None:
            req.send_response(200)
            req.send_header("Content-Type", HTML_UTF8)
            req.send_header("Transfer-Encoding", "chunked")
            req.end_headers()
            while not self.released.is_set():
                req.wfile.write(frame)
            req.close_connection = True

        return answer
