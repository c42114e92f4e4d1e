"""The hostile HTTP server: a built replica served on 127.0.0.1 from a thread of
the calling process, misbehaving as its ``Faults`` say.

Why a server of its own: ``ReplicaServer`` serves files, correctly. A crawler run
unattended against the open web meets connection resets, slow, hung and failing
servers, truncated, bloated and mis-encoded pages, compression bombs, answers that
never end, redirect loops, endless listings and hostile content; none of that can
be shown with a correct server. In a thread of the test process the server can be
switched to other faults between two runs, counts what was requested (and from
which host) and changes nothing on disk.
"""

from __future__ import annotations

import http.server
import io
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from replica.faults.pages import (
    HTML_UTF8,
    MIB,
    ListItem,
    chinese_utf8_page,
    cut_page,
    deeply_nested,
    endless_chunks,
    endless_page,
    gbk_page,
    generated_story,
    gzip_bomb,
    inject_items,
    no_charset_page,
    offsite_page,
    pad_page,
    replace_listing_links,
    story_page,
    undecodable,
    without_document_end,
)
from replica.server import CONTENT_TYPES, Served, site_dir_of

# --- Fault kinds a rule can apply to the paths it names ------------------------------

RESET = "reset"  # close the connection with a TCP RST, answering nothing
CLOSE = "close"  # close the connection cleanly (FIN), answering nothing
SLOW = "slow"  # wait ``Rule.seconds`` before answering (longer than DOWNLOAD_TIMEOUT)
HANG = "hang"  # never answer: hold the connection until the server stops
STATUS = "status"  # answer ``Rule.statuses`` in turn, with ``Rule.headers``
SHORT_BODY = "short-body"  # Content-Length of the whole page, half the bytes, then close
CUT = "cut"  # the page cut in the middle of a body paragraph, with a matching length
EMPTY = "empty"  # 200 with an empty body
NO_DOCUMENT_END = "no-document-end"  # the body whole, the page cut at its footer
HUGE = "huge"  # the page padded to ``Rule.size`` bytes
GZIP_BOMB = "gzip-bomb"  # Content-Encoding: gzip, ``Rule.size`` bytes once decompressed
ENDLESS = "endless"  # a chunked answer that never ends, ``Rule.rate`` bytes a second
DEEP = "deep"  # 3,000 nested <div> before the body's paragraphs
GBK = "gbk"  # the page (with Chinese added) encoded as GBK, declared UTF-8
DECLARED_GBK = "declared-gbk"  # the page (with Chinese added) as UTF-8, declared GBK
NO_CHARSET = "no-charset"  # the page (with Chinese added) with no charset anywhere
UNDECODABLE = "undecodable"  # bytes that fit neither UTF-8 nor GB18030 in each paragraph
REDIRECT_LOOP = "redirect-loop"  # A → A?loop=1 → A → …
REDIRECT_CHAIN = "redirect-chain"  # A → A?hop=1 → A?hop=2 → … (never ends)
REDIRECT_OFFSITE = "redirect-offsite"  # 301 to the same path on http://localhost:PORT
ACTIONS = frozenset(
    {
        RESET, CLOSE, SLOW, HANG, STATUS, SHORT_BODY, CUT, EMPTY, NO_DOCUMENT_END, HUGE,
        GZIP_BOMB, ENDLESS, DEEP, GBK, DECLARED_GBK, NO_CHARSET, UNDECODABLE,
        REDIRECT_LOOP, REDIRECT_CHAIN, REDIRECT_OFFSITE,
    }
)  # fmt: skip

TEN_MB = 10 * 1024 * 1024
HANG_SECONDS = 600.0  # a hung answer gives up this late, or when the server stops
ENDLESS_RATE = 128 * MIB  # bytes a second of an endless answer


@dataclass(frozen=True)
class Rule:
    """Misbehave on ``paths``: on the first ``times`` requests to each path, or on
    every request when ``times`` is None. Paths are matched without their query.
    ``chunked`` sends the answer with ``Transfer-Encoding: chunked`` (no length)."""

    action: str
    paths: frozenset[str]
    times: int | None = None
    statuses: tuple[int, ...] = (503,)
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 3.0
    size: int = TEN_MB
    rate: int = ENDLESS_RATE
    chunked: bool = False

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault {self.action!r}; choose from {sorted(ACTIONS)}")


@dataclass
class Faults:
    """What the server does wrong. An empty ``Faults()`` serves the replica as is."""

    rules: list[Rule] = field(default_factory=list)
    # robots.txt's text; None: a 404, as the replica has none.
    robots_txt: str | None = None
    # A section listing path ("/news/politics/") whose paging never ends: every
    # index_N.shtml past the real ones lists 30 fresh stories, which are served.
    endless: str | None = None
    # A listing page path whose items all point off-site.
    offsite_listing: str | None = None
    # Items added on top of these listing pages.
    extra_items: dict[str, list[ListItem]] = field(default_factory=dict)
    # Extra pages, or pages served instead of the replica's: path → (bytes, content type).
    pages: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # Any other ``detail-`` path under this prefix gets a generated article.
    serve_unknown_articles: str | None = None
    # After answering this many requests, the server answers none: every later
    # request hangs (a server wedged in the middle of a run).
    hang_after: int | None = None


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    at: float
    host: str
    path: str  # as requested, with its query


class _HTTPServer(http.server.ThreadingHTTPServer):
    owner: FaultServer
    # socketserver's backlog of 5 overflows when the crawler opens its connections
    # at once; a dropped SYN costs the client a 1 s retransmission.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up (a download timeout) is part of the faults.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the site and the replica speak
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle and delayed
    # ACKs hold each answer on a kept-alive connection for 40 ms.
    disable_nagle_algorithm = True
    server_version = "ecns-fault-replica/1"
    sys_version = ""
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.owner.handle(self)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the server records hits itself


class FaultServer(Served):
    """Serve a built replica on 127.0.0.1 from a thread, misbehaving as ``faults`` say.

    >>> with FaultServer(root, Faults(rules=[Rule(RESET, frozenset({path}), times=2)])) as s:
    ...     crawl(s.base_url, ...)
    ...     s.set_faults(Faults())  # the fault clears before the next run

    ``pause()`` stops listening (connections are refused) and ``start()`` listens
    again on the same port, so the same origin can be down for one run and up for
    the next. Requests with a ``Host`` other than this origin (``localhost:PORT``
    after an off-site redirect) are recorded in ``offsite_hits`` and answered
    with a page that must never be delivered.
    """

    def __init__(
        self,
        root_or_site_dir: Path | str,
        faults: Faults | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.site_dir = site_dir_of(Path(root_or_site_dir)).resolve()
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.hits: list[Hit] = []
        self._counts: Counter[tuple[int, str]] = Counter()
        self._answered = 0  # requests answered under the current faults
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.netloc}"

    @property
    def listening(self) -> bool:
        return self._httpd is not None

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.owner = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def pause(self) -> None:
        """Stop listening, keeping the port for ``start()``: connections are refused."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # slow, hung and endless answers give up at once
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    stop = pause

    def set_faults(self, faults: Faults) -> None:
        """Switch to other faults; the ``times`` counts start again."""
        with self._lock:
            self.faults = faults
            self._counts.clear()
            self._answered = 0

    def release_hung(self) -> None:
        """Let every held answer go (their clients gave up long ago), and listen on."""
        self._stopping.set()
        time.sleep(0.05)
        self._stopping.clear()

    # -- what was asked ----------------------------------------------------------

    @property
    def offsite_hits(self) -> list[Hit]:
        return [h for h in self.hits if h.host != self.netloc]

    def paths_requested(self, since: int = 0) -> list[str]:
        """Paths requested on this origin, from hit number ``since`` on."""
        return [urlsplit(h.path).path for h in self.hits[since:] if h.host == self.netloc]

    # -- answering ---------------------------------------------------------------

    def handle(self, req: _Handler) -> None:
        split = urlsplit(req.path)
        path, query = split.path, split.query
        host = (req.headers.get("Host") or "").lower()
        with self._lock:
            self.hits.append(Hit(time.monotonic(), host, req.path))
            faults = self.faults
            rule, nth = self._take_rule(faults, path)
            wedged = faults.hang_after is not None and self._answered >= faults.hang_after
            self._answered += 1
        if wedged:
            self._stopping.wait(HANG_SECONDS)
            req.close_connection = True
            return
        if host != self.netloc:
            self._send(req, 200, offsite_page(host, path), HTML_UTF8)
            return
        action = rule.action if rule else None
        if action == RESET:
            self._reset(req)
            return
        if action == CLOSE:
            req.close_connection = True
            return
        if action == HANG:
            self._stopping.wait(HANG_SECONDS)
            req.close_connection = True
            return
        if rule is not None and action == SLOW:
            self._stopping.wait(rule.seconds)
        if rule is not None and action == STATUS:
            status = rule.statuses[nth % len(rule.statuses)]
            body = f"<html><body><h1>{status}</h1></body></html>".encode()
            self._send(req, status, body, HTML_UTF8, rule.headers)
            return
        if action in (REDIRECT_LOOP, REDIRECT_CHAIN, REDIRECT_OFFSITE):
            self._redirect(req, action, path, query)
            return
        found = self._content(faults, path)
        if found is None:
            self._send(req, 404, b"<html><body><h1>404 Not Found</h1></body></html>", HTML_UTF8)
            return
        body, ctype = found
        headers: list[tuple[str, str]] = []
        if rule is not None and action == ENDLESS:
            self._endless(req, body, ctype, rule.rate)
            return
        if rule is not None and action == HUGE:
            body = pad_page(body, rule.size)
        elif rule is not None and action == GZIP_BOMB:
            body = gzip_bomb(body, rule.size)
            headers.append(("Content-Encoding", "gzip"))
        elif action == CUT:
            body = cut_page(body)
        elif action == EMPTY:
            body = b""
        elif action == NO_DOCUMENT_END:
            body = without_document_end(body)
        elif action == DEEP:
            body = deeply_nested(body)
        elif action == UNDECODABLE:
            body = undecodable(body)
        elif action == GBK:
            body = gbk_page(body)  # the declared type stays "charset=utf-8"
        elif action == DECLARED_GBK:
            body, ctype = chinese_utf8_page(body), "text/html; charset=gbk"
        elif action == NO_CHARSET:
            body, ctype = no_charset_page(body), "text/html"
        if action == SHORT_BODY:
            self._send(req, 200, body[: len(body) // 2], ctype, length=len(body))
            req.close_connection = True
            return
        if rule is not None and rule.chunked:
            self._chunked(req, body, ctype, headers)
            return
        self._send(req, 200, body, ctype, headers)

    def _take_rule(self, faults: Faults, path: str) -> tuple[Rule | None, int]:
        """The first rule that still applies to ``path``, and how many times it did."""
        for index, rule in enumerate(faults.rules):
            if path not in rule.paths:
                continue
            nth = self._counts[(index, path)]
            if rule.times is None or nth < rule.times:
                self._counts[(index, path)] += 1
                return rule, nth
        return None, 0

    @staticmethod
    def _reset(req: _Handler) -> None:
        """Close with a TCP RST: linger 0, and the descriptor closed for real now."""
        req.close_connection = True
        req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        req.rfile.close()
        req.wfile.close()
        req.wfile = io.BytesIO()  # http.server flushes it after do_GET
        req.connection.close()

    def _redirect(self, req: _Handler, action: str, path: str, query: str) -> None:
        if action == REDIRECT_OFFSITE:
            status, location = 301, f"http://localhost:{self.port}{path}"
        elif action == REDIRECT_LOOP:
            status, location = 302, path if query else f"{path}?loop=1"
        else:
            hop = int(query.removeprefix("hop=")) if query.startswith("hop=") else 0
            status, location = 302, f"{path}?hop={hop + 1}"
        self._send(req, status, b"", HTML_UTF8, (("Location", location),))

    @staticmethod
    def _send(
        req: _Handler,
        status: int,
        body: bytes,
        ctype: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        length: int | None = None,
    ) -> None:
        try:
            req.send_response(status)
            req.send_header("Content-Type", ctype)
            req.send_header("Content-Length", str(len(body) if length is None else length))
            for name, value in headers:
                req.send_header(name, value)
            req.end_headers()
            req.wfile.write(body)
        except OSError:  # the client gave up (a timeout): nothing to do
            req.close_connection = True

    @staticmethod
    def _chunked_head(req: _Handler, ctype: str, headers: Iterable[tuple[str, str]]) -> None:
        req.send_response(200)
        req.send_header("Content-Type", ctype)
        req.send_header("Transfer-Encoding", "chunked")
        for name, value in headers:
            req.send_header(name, value)
        req.end_headers()

    def _chunked(
        self, req: _Handler, body: bytes, ctype: str, headers: Iterable[tuple[str, str]]
    ) -> None:
        """``body`` in chunks of 64 KiB, with no length announced."""
        try:
            self._chunked_head(req, ctype, headers)
            for at in range(0, len(body), 1 << 16):
                chunk = body[at : at + (1 << 16)]
                req.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            req.wfile.write(b"0\r\n\r\n")
        except OSError:
            req.close_connection = True

    def _endless(self, req: _Handler, page: bytes, ctype: str, rate: int) -> None:
        """The page's start, then padding at ``rate`` bytes a second, until the
        client goes away or the server stops."""
        head, block = endless_chunks(page)
        interval = len(block) / rate
        req.close_connection = True
        try:
            self._chunked_head(req, ctype, ())
            req.wfile.write(b"%x\r\n%s\r\n" % (len(head), head))
            frame = b"%x\r\n%s\r\n" % (len(block), block)
            due = time.monotonic()
            while not self._stopping.is_set():
                req.wfile.write(frame)
                due += interval
                self._stopping.wait(max(0.0, due - time.monotonic()))
        except OSError:
            pass

    def _file(self, path: str) -> tuple[bytes, str] | None:
        target = (self.site_dir / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.site_dir):
            return None
        if target.is_dir():
            target = target / "index.shtml"
        if not target.is_file():
            return None
        return target.read_bytes(), CONTENT_TYPES.get(target.suffix, "application/octet-stream")

    def _content(self, faults: Faults, path: str) -> tuple[bytes, str] | None:
        if path == "/robots.txt":
            if faults.robots_txt is None:
                return None
            return faults.robots_txt.encode("utf-8"), "text/plain; charset=utf-8"
        if path in faults.pages:
            return faults.pages[path]
        found = self._file(path)
        if found is not None:
            body, ctype = found
            if path == faults.offsite_listing:
                body = replace_listing_links(body, self._offsite_href)
            if path in faults.extra_items:
                body = inject_items(body, faults.extra_items[path])
            return body, ctype
        if faults.endless is not None:
            generated = endless_page(faults.endless, path)
            if generated is not None:
                return generated, HTML_UTF8
        unknown = faults.serve_unknown_articles
        if unknown and path.startswith(unknown) and "detail-" in path:
            return story_page(generated_story(f"unknown:{path}")), HTML_UTF8
        return None

    def _offsite_href(self, i: int, path: str) -> str:
        """Off-site forms of a listing link: a host the crawler could reach
        (``localhost``, recorded if followed), hosts that only look like the site,
        and links that are not web pages at all."""
        forms = (
            f"http://localhost:{self.port}{path}",
            f"//evil.example{path}",
            f"https://www.ecns.cn.evil.example{path}",
            f"http://localhost:{self.port}/m{path}",
            "javascript:alert(1)",
            "mailto:news@evil.example",
        )
        return forms[i % len(forms)]
