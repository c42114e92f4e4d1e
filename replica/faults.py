"""A replica that misbehaves on purpose, and the fault suite that measures how the
crawler survives it (issue 7).

Why a server of its own: ``ReplicaServer`` serves files, correctly. A crawler run
unattended against the open web meets connection resets, slow and failing servers,
truncated and mis-encoded pages, redirect loops, endless listings and hostile
content; none of that can be shown with a correct server. ``FaultServer`` serves
a built replica on 127.0.0.1 from a thread of the calling process, so a test
switches faults between two runs, counts what was requested (and from which
host) and changes nothing on disk.

Why the suite lives here and not only in the tests: the same measurement is a
command (``python -m replica.faults``) that prints one line per fault:
stories expected, delivered (read only from files named in complete manifests,
as a consumer reads them), lost, duplicated, delivered but damaged, the exit
status against the documented one (README, "Exit codes"), tracebacks, and the
time taken. ``tests/test_faults.py`` asserts the same rows.

What "right" means, per fault kind:

- a recoverable fault (the server recovers within Scrapy's retries, or before
  the next run) loses nothing, duplicates nothing and damages nothing, over the
  runs the case makes;
- an unrecoverable one ends with its documented non-zero status and a clear
  message, and never marks a story delivered that no complete manifest holds;
- no run prints the traceback of an unhandled exception (``tracebacks``), and no
  run outlives ``RUN_TIMEOUT``;
- every output line is valid UTF-8 JSON, one object a line, whose strings hold
  no control character but ``\\n``, no lone surrogate, no markup that runs
  (``<script``, ``<iframe``, ``<img`` …), nothing of a ``<script>`` element's
  code; no file is created outside the output and state folders.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import html
import http.server
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from replica.build import TRUTH_FILE, build_site
from replica.localrun import FAST_LOCAL_SETTINGS, PROJECT_ROOT
from replica.server import CONTENT_TYPES, Served, site_dir_of
from replica.text import TextGen

# --- Fault kinds a rule can apply to the paths it names ------------------------------

RESET = "reset"  # close the connection with a TCP RST, answering nothing
CLOSE = "close"  # close the connection cleanly (FIN), answering nothing
SLOW = "slow"  # wait ``Rule.seconds`` before answering (longer than DOWNLOAD_TIMEOUT)
STATUS = "status"  # answer ``Rule.statuses`` in turn, with ``Rule.headers``
SHORT_BODY = "short-body"  # Content-Length of the whole page, half the bytes, then close
CUT = "cut"  # the page cut in the middle of a body paragraph, with a matching length
HUGE = "huge"  # the page padded to ``Rule.size`` bytes
GBK = "gbk"  # the page (with Chinese added) encoded as GBK, declared UTF-8
NO_CHARSET = "no-charset"  # the page (with Chinese added) with no charset anywhere
REDIRECT_LOOP = "redirect-loop"  # A → A?loop=1 → A → …
REDIRECT_CHAIN = "redirect-chain"  # A → A?hop=1 → A?hop=2 → … (never ends)
REDIRECT_OFFSITE = "redirect-offsite"  # 301 to the same path on http://localhost:PORT
ACTIONS = frozenset(
    {
        RESET, CLOSE, SLOW, STATUS, SHORT_BODY, CUT, HUGE, GBK, NO_CHARSET,
        REDIRECT_LOOP, REDIRECT_CHAIN, REDIRECT_OFFSITE,
    }
)  # fmt: skip

HTML_UTF8 = "text/html; charset=utf-8"
BODY_START_MARK = "<!--正文分页开始-->"
BODY_END_MARK = "<!--正文分页结束-->"
# Added to pages served as GBK or without a charset: characters outside ASCII,
# in a title and in an English paragraph the spam stage keeps.
CHINESE_TITLE_SUFFIX = "(北京)"
CHINESE_PARAGRAPH = (
    "Premier Li Qiang (李强) and Vice-Premier Ding Xuexiang (丁薛祥) attended the "
    "meeting in Beijing (北京), where “closer ties” were welcomed — officials said."
)
# Text inside <script> elements of hostile pages: it must never reach a text field.
SCRIPT_MARKER = "xss_marker_code"
TEN_MB = 10 * 1024 * 1024


@dataclass(frozen=True)
class Rule:
    """Misbehave on ``paths``: on the first ``times`` requests to each path, or on
    every request when ``times`` is None. Paths are matched without their query."""

    action: str
    paths: frozenset[str]
    times: int | None = None
    statuses: tuple[int, ...] = (503,)
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 3.0
    size: int = TEN_MB

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault {self.action!r}; choose from {sorted(ACTIONS)}")


# A listing item: href as written, title, listing date ("Jan 11, 2025").
ListItem = tuple[str, str, str]


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
    # Extra pages: path → (bytes, content type).
    pages: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # Any other ``detail-`` path under this prefix gets a generated article.
    serve_unknown_articles: str | None = None


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    at: float
    host: str
    path: str  # as requested, with its query


# --- Pages the faults serve ---------------------------------------------------------


@dataclass(frozen=True)
class GeneratedStory:
    title: str
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def generated_story(key: str) -> GeneratedStory:
    """Synthetic news text for a page the replica does not hold, deterministic for
    ``key`` and distinct between keys (titles carry the key's digest)."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    story = TextGen(random.Random(digest)).story("politics")
    title = f"{story.title()} ({digest[:6]})"
    paragraphs = [story.lead()] + [" ".join(story.sentences(2)) for _ in range(3)]
    return GeneratedStory(title, tuple(paragraphs))


def article_page(
    title_html: str,
    paragraphs_html: Sequence[str],
    *,
    head_title: str | None = None,
    published: str = "2025-01-11 09:30:00",
    source: str = "China News Service",
    editor: str = "Li Yan",
) -> str:
    """An article page in the site's template, reduced to what extraction reads:
    ``h1#contitle``, the ``downinfo`` spans, ``div#yanse`` between its marks."""
    plain = head_title if head_title is not None else html.unescape(title_html)
    attr = html.escape(plain, quote=True)
    paragraphs = "\n".join(f"<p>{p}</p>" for p in paragraphs_html)
    return f"""<!DOCTYPE html>
<html lang="en-US"><head>
<meta charset="utf-8">
<meta name="twitter:title" content="{attr}">
<title>{attr}</title>
<!--publish at {published}-->
</head>
<body>
<h3 class="itemtit"><span>Politics</span></h3>
<h1 class="contitle" id="contitle">{title_html}</h1>
<div class="downinfo dottlne"><span>{published}</span><span>{source}</span>
<span>Editor  : {editor}</span></div>
<div class="content" id="yanse">
{BODY_START_MARK}
{paragraphs}
{BODY_END_MARK}
</div>
</body></html>
"""


def story_page(story: GeneratedStory, published: str = "2025-01-11 09:30:00") -> bytes:
    paragraphs = [html.escape(p, quote=False) for p in story.paragraphs]
    page = article_page(html.escape(story.title, quote=False), paragraphs, published=published)
    return page.encode("utf-8")


def listing_page(items: Iterable[ListItem]) -> bytes:
    """A section listing page holding ``items`` in ``ul.bizlst``."""
    lis = "\n".join(
        f'<li><h3><a href="{html.escape(href)}">{html.escape(title)}</a></h3><b>{date}</b></li>'
        for href, title, date in items
    )
    page = f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8"><title>Politics</title></head>
<body><div class="bdybox"><ul class="bizlst dashedlne mart5 overhid">
{lis}
</ul></div></body></html>
"""
    return page.encode("utf-8")


def inject_items(page: bytes, items: Iterable[ListItem]) -> bytes:
    """``page`` with ``items`` added on top of its first ``ul.bizlst``."""
    extra = "".join(
        f'<li><h3><a href="{html.escape(href)}">{html.escape(title)}</a></h3><b>{date}</b></li>\n'
        for href, title, date in items
    ).encode("utf-8")
    m = re.search(rb'<ul class="bizlst[^>]*>\n?', page)
    if m is None:
        raise ValueError("not a listing page: no ul.bizlst")
    return page[: m.end()] + extra + page[m.end() :]


def replace_listing_links(page: bytes, href_for: Callable[[int, str], str]) -> bytes:
    """``page`` with the href of each listing item ``i`` replaced by ``href_for(i, path)``."""
    counter = iter(range(1 << 30))

    def swap(m: re.Match[bytes]) -> bytes:
        path = urlsplit(html.unescape(m.group(2).decode())).path
        new = html.escape(href_for(next(counter), path)).encode()
        return m.group(1) + new + m.group(3)

    return re.sub(rb'(<li><h3><a href=")([^"]*)(")', swap, page)


def pad_page(page: bytes, size: int) -> bytes:
    """``page`` grown to ``size`` bytes by a hidden block of paragraphs outside the
    article body, before ``</body>``."""
    at = page.rfind(b"</body>")
    at = len(page) if at < 0 else at
    unit = b"<p>Archive padding line for a very large page, not part of any story.</p>\n"
    wrapper = (b'<div class="padding" style="display:none">\n', b"</div>\n")
    room = max(0, size - len(page) - len(wrapper[0]) - len(wrapper[1]))
    padding = unit * (room // len(unit)) + b" " * (room % len(unit))
    return page[:at] + wrapper[0] + padding + wrapper[1] + page[at:]


def cut_page(page: bytes) -> bytes:
    """``page`` cut in the middle of a paragraph of its body (or of the page, when it
    has no body marks), on a UTF-8 character boundary."""
    start, end = page.find(BODY_START_MARK.encode()), page.find(BODY_END_MARK.encode())
    if start < 0 or end < 0:
        at = len(page) // 2
    else:
        middle = (start + end) // 2
        p = page.rfind(b"<p", start, middle)
        close = page.find(b"</p>", max(p, start))
        at = (p + close) // 2 if 0 <= p < close else middle
    while at > 0 and page[at] & 0xC0 == 0x80:
        at -= 1
    return page[:at]


def add_chinese(text: str) -> str:
    """An article page with :data:`CHINESE_TITLE_SUFFIX` at the end of its titles and
    :data:`CHINESE_PARAGRAPH` as the body's last paragraph."""
    text = text.replace("</h1>", f" {CHINESE_TITLE_SUFFIX}</h1>", 1)
    return text.replace(BODY_END_MARK, f"<p>{CHINESE_PARAGRAPH}</p>\n{BODY_END_MARK}", 1)


def gbk_page(page: bytes) -> bytes:
    """The page, with Chinese added, as GBK bytes; it still declares UTF-8."""
    return add_chinese(page.decode("utf-8")).encode("gbk", errors="xmlcharrefreplace")


def no_charset_page(page: bytes) -> bytes:
    """The page, with Chinese added, as UTF-8 bytes, its ``<meta charset>`` removed."""
    text = re.sub(r"<meta\s+charset=[^>]*>", "", add_chinese(page.decode("utf-8")), count=1)
    return text.encode("utf-8")


def offsite_page(host: str, path: str) -> bytes:
    """What an off-site host answers: a plausible story, which must never be delivered."""
    story = generated_story(f"offsite:{host}{path}")
    return story_page(GeneratedStory(f"Off-site page {story.title}", story.paragraphs))


# --- The server ---------------------------------------------------------------------


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
        self._stopping.set()  # slow answers give up at once
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

    # -- what was asked ----------------------------------------------------------

    @property
    def offsite_hits(self) -> list[Hit]:
        return [h for h in self.hits if h.host != self.netloc]

    def paths_requested(self) -> list[str]:
        return [urlsplit(h.path).path for h in self.hits if h.host == self.netloc]

    # -- answering ---------------------------------------------------------------

    def handle(self, req: _Handler) -> None:
        split = urlsplit(req.path)
        path, query = split.path, split.query
        host = (req.headers.get("Host") or "").lower()
        with self._lock:
            self.hits.append(Hit(time.monotonic(), host, req.path))
            faults = self.faults
            rule, nth = self._take_rule(faults, path)
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
        if rule is not None and action == HUGE:
            body = pad_page(body, rule.size)
        elif action == CUT:
            body = cut_page(body)
        elif action == GBK:
            body = gbk_page(body)  # the declared type stays "charset=utf-8"
        elif action == NO_CHARSET:
            body, ctype = no_charset_page(body), "text/html"
        if action == SHORT_BODY:
            self._send(req, 200, body[: len(body) // 2], ctype, length=len(body))
            req.close_connection = True
            return
        self._send(req, 200, body, ctype)

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


ENDLESS_DAY = "2024-08-15"
ENDLESS_DATE = "Aug 15, 2024"
ENDLESS_PER_PAGE = 30


def endless_story_paths(section_path: str, page: int) -> list[str]:
    """The stories generated listing page ``page`` of an endless section lists."""
    return [
        f"{section_path}{ENDLESS_DAY}/detail-zend{page:04d}{i:02d}.shtml"
        for i in range(ENDLESS_PER_PAGE)
    ]


def endless_page(section_path: str, path: str) -> bytes | None:
    """A generated listing page past the real ones, or one of the stories it lists."""
    prefix = re.escape(section_path)
    m = re.fullmatch(rf"{prefix}index_(\d+)\.shtml", path)
    if m:
        items = [
            (p, generated_story(p).title, ENDLESS_DATE)
            for p in endless_story_paths(section_path, int(m.group(1)))
        ]
        return listing_page(items)
    if re.fullmatch(rf"{prefix}{ENDLESS_DAY}/detail-zend\d{{6}}\.shtml", path):
        return story_page(generated_story(path), published=f"{ENDLESS_DAY} 10:00:00")
    return None


# --- Running the crawler --------------------------------------------------------------

# Every fault run: no politeness delays on 127.0.0.1, a short download timeout so
# that slow answers cost seconds, Scrapy's default of two retries said out loud.
FAULT_SETTINGS = {
    **FAST_LOCAL_SETTINGS,
    "DOWNLOAD_TIMEOUT": "2",
    "RETRY_TIMES": "2",
    "NEWSCRAWL_MAX_RETRY_AFTER": "5",
}
SECTIONS = ("politics", "cns-wire")
RUN_TIMEOUT = 60.0  # seconds a run may take before it counts as hung (and is killed)
DROP_DAC_FAILED = 97  # the launcher's status when it cannot drop root's DAC override

# Runs ``python ARGS`` after applying local faults that must be set in the child
# before it starts: a file size limit (SIGXFSZ ignored, so writes fail with EFBIG
# instead of killing), and for root, file permissions that apply (CAP_DAC_OVERRIDE
# and CAP_DAC_READ_SEARCH dropped from the bounding set). A launcher instead of
# ``preexec_fn``, which is unsafe in a process with threads (the server's).
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


@dataclass
class RunResult:
    """One ``scrapy crawl ecns`` of a case."""

    exit_code: int | None  # None: killed after RUN_TIMEOUT
    seconds: float
    stderr: str
    manifest: dict[str, Any] | None  # the manifest this run wrote, if any


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
    """``scrapy crawl ecns`` in a subprocess through :data:`LAUNCHER`, as cron runs it."""
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
    full_env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings", **(env or {})}
    before = set(out.glob("*.manifest.json")) if out.is_dir() else set()
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            cwd=PROJECT_ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        code: int | None = proc.returncode
        stderr = proc.stderr
    except subprocess.TimeoutExpired as exc:
        code = None
        raw = exc.stderr or b""
        stderr = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    seconds = time.monotonic() - started
    new = sorted(set(out.glob("*.manifest.json")) - before) if out.is_dir() else []
    manifest = None
    if new:
        try:
            manifest = json.loads(new[-1].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None
    return RunResult(code, seconds, stderr, manifest)


# --- Cases ---------------------------------------------------------------------------


@dataclass
class Step:
    """One run of a case: the server's faults during it (None: nothing listens),
    the statuses that are right for it, and local faults set up around it."""

    faults: Faults | None = field(default_factory=Faults)
    expect_exit: frozenset[int] = frozenset({0})
    sections: tuple[str, ...] | None = None  # None: the context's
    spider_args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Context], None] | None = None
    teardown: Callable[[Context], None] | None = None
    # stderr must match this (a clear message), when the run is expected to fail
    message: str | None = None


@dataclass
class Context:
    """What a case's builder and checks see: the folders, the server, the truth, and
    what the case adds to or removes from the stories it expects."""

    work: Path
    site_dir: Path
    truth: list[dict[str, Any]]
    server: FaultServer
    out: Path
    state: Path
    sections: tuple[str, ...] = SECTIONS
    # generated stories that must be delivered: path → expected title and body (or None)
    extra_expected: dict[str, dict[str, str] | None] = field(default_factory=dict)
    # paths that may or may not be delivered (hostile pages with no right answer)
    optional: set[str] = field(default_factory=set)
    # which truth stories the case expects (default: listed in the crawled sections)
    expect_story: Callable[[dict[str, Any]], bool] | None = None
    # truth path → title/body the page shows under this fault (it added text)
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    held: list[Any] = field(default_factory=list)
    scratch: dict[str, Any] = field(default_factory=dict)

    def listing(self, section: str, page: int = 1) -> str:
        path = {"politics": "/news/politics/", "cns-wire": "/cns-wire/"}[section]
        return path + ("index.shtml" if page == 1 else f"index_{page}.shtml")

    def last_page(self, section: str) -> int:
        page = 1
        while (self.site_dir / self.listing(section, page + 1).lstrip("/")).is_file():
            page += 1
        return page

    def page_stories(self, section: str, page: int) -> list[str]:
        """The deliverable stories listing page ``page`` of ``section`` links to."""
        listing = (self.site_dir / self.listing(section, page).lstrip("/")).read_text("utf-8")
        hrefs = re.findall(r'<li><h3><a href="([^"]+)"', listing)
        deliverable = {r["path"] for r in self.truth if r["expect"] == "delivered"}
        paths = [urlsplit(html.unescape(h)).path for h in hrefs]
        return [p for p in paths if p in deliverable]

    def stories(self, section: str, count: int, offset: int = 0) -> list[str]:
        """``count`` deliverable stories listed in ``section``, spread over it."""
        paths = sorted(
            r["path"]
            for r in self.truth
            if r["expect"] == "delivered" and section in r["listed_in"]
        )
        step = max(1, len(paths) // count)
        return paths[offset::step][:count]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # server, next-run, hostile, local
    behaviour: str  # what the crawler must do, one line
    build: Callable[[Context], list[Step]]
    recoverable: bool = True
    check: Callable[[Context, list[RunResult]], list[str]] | None = None
    # The page shows markup as text (``&lt;script&gt;``): fields are plain text as
    # the page shows it (README, "Output format"), so that text is right there.
    shows_markup_as_text: bool = False


def _paths(*paths: str | Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for p in paths:
        out.update([p] if isinstance(p, str) else p)
    return frozenset(out)


# -- server faults, recovered within Scrapy's retries ----------------------------------


def _resets(ctx: Context) -> list[Step]:
    paths = _paths(
        ctx.listing("politics", 2), ctx.stories("politics", 4), ctx.stories("cns-wire", 2)
    )
    return [Step(Faults(rules=[Rule(RESET, paths, times=2)]))]


def _closes(ctx: Context) -> list[Step]:
    paths = _paths(ctx.listing("cns-wire", 1), ctx.stories("politics", 4, 1))
    return [Step(Faults(rules=[Rule(CLOSE, paths, times=2)]))]


def _slow(ctx: Context) -> list[Step]:
    paths = _paths(ctx.listing("politics", 1), ctx.stories("cns-wire", 1))
    return [Step(Faults(rules=[Rule(SLOW, paths, times=1, seconds=3.0)]))]


def _five_hundreds(ctx: Context) -> list[Step]:
    rules = [
        Rule(STATUS, _paths(ctx.listing("politics", 3), ctx.stories("politics", 3)), 2, (500, 502)),
        Rule(STATUS, _paths(ctx.listing("cns-wire", 2), ctx.stories("cns-wire", 3)), 2, (503, 500)),
    ]
    return [Step(Faults(rules=rules))]


def _too_many(ctx: Context) -> list[Step]:
    # One path: the crawler's pause after a 429 costs seconds (see the report).
    paths = _paths(ctx.stories("politics", 1, 7))
    rule = Rule(STATUS, paths, times=1, statuses=(429,), headers=(("Retry-After", "1"),))
    return [Step(Faults(rules=[rule]))]


def _short_body(ctx: Context) -> list[Step]:
    paths = _paths(
        ctx.listing("politics", 3), ctx.stories("politics", 3), ctx.stories("cns-wire", 1)
    )
    return [Step(Faults(rules=[Rule(SHORT_BODY, paths, times=1)]))]


def _huge(ctx: Context) -> list[Step]:
    paths = _paths(ctx.listing("politics", 2), ctx.stories("politics", 1))
    return [Step(Faults(rules=[Rule(HUGE, paths)]))]


def _charset(action: str) -> Callable[[Context], list[Step]]:
    def build(ctx: Context) -> list[Step]:
        paths = ctx.stories("politics", 2, 3) + ctx.stories("cns-wire", 1, 3)
        by_path = {r["path"]: r for r in ctx.truth}
        for path in paths:
            record = by_path[path]
            ctx.overrides[path] = {
                "title": f"{record['title']} {CHINESE_TITLE_SUFFIX}",
                "body": f"{record['body']}\n\n{CHINESE_PARAGRAPH}",
            }
        return [Step(Faults(rules=[Rule(action, frozenset(paths))]))]

    return build


def _robots(ctx: Context) -> list[Step]:
    ctx.expect_story = lambda r: (
        "politics" in r["listed_in"] and not r["path"].startswith("/cns-wire/")
    )
    robots = "User-agent: *\nDisallow: /cns-wire/\n"
    return [Step(Faults(robots_txt=robots))]


def _robots_check(ctx: Context, runs: list[RunResult]) -> list[str]:
    asked = [p for p in ctx.server.paths_requested() if p.startswith("/cns-wire/")]
    if not asked:
        return []
    return [f"requested {len(asked)} path(s) robots.txt disallows, e.g. {asked[0]}"]


# -- faults recovered by the next run ------------------------------------------------


def _refused(ctx: Context) -> list[Step]:
    return [
        Step(None, frozenset({4}), message=r"(?i)no listing page|refused|unreachable"),
        Step(Faults()),
    ]


def _resets_beyond_retries(ctx: Context) -> list[Step]:
    """Stories of pages 2 and 3 only: page 1 then holds only known stories in the
    next run, as it does on the site between two runs."""
    paths = _paths(
        ctx.page_stories("politics", 2)[5:7],
        ctx.page_stories("politics", 3)[10:11],
        ctx.page_stories("cns-wire", 2)[3:5],
    )
    # Twisted retries a GET once by itself when a reused connection drops, so a
    # path that resets 10 times fails every attempt of Scrapy's.
    return [Step(Faults(rules=[Rule(RESET, paths, times=10)])), Step(Faults())]


def _cut(ctx: Context) -> list[Step]:
    paths = _paths(ctx.listing("cns-wire", 2), ctx.stories("politics", 4, 1))
    return [Step(Faults(rules=[Rule(CUT, paths, times=1)])), Step(Faults())]


def _redirect_loops(ctx: Context) -> list[Step]:
    """Politics page 2 redirects without end (Scrapy gives up after 20: an
    IgnoreRequest), cns-wire page 2 loops back on itself (the second visit is a
    duplicate request), and two stories of cns-wire page 1 redirect without end."""
    rules = [
        Rule(
            REDIRECT_CHAIN, _paths(ctx.listing("politics", 2), ctx.page_stories("cns-wire", 1)[4:6])
        ),
        Rule(REDIRECT_LOOP, _paths(ctx.listing("cns-wire", 2))),
    ]
    return [Step(Faults(rules=rules)), Step(Faults())]


def _redirect_offsite(ctx: Context) -> list[Step]:
    stories = ctx.page_stories("politics", 1)[:2] + ctx.page_stories("politics", 3)[:2]
    rule = Rule(REDIRECT_OFFSITE, _paths(ctx.listing("cns-wire", 2), stories))
    return [Step(Faults(rules=[rule])), Step(Faults())]


def _offsite_listing(ctx: Context) -> list[Step]:
    return [Step(Faults(offsite_listing=ctx.listing("cns-wire", 1))), Step(Faults())]


def _no_offsite_request(ctx: Context, runs: list[RunResult]) -> list[str]:
    hits = ctx.server.offsite_hits
    if not hits:
        return []
    return [f"{len(hits)} request(s) went off-site, e.g. {hits[0].host}{hits[0].path}"]


MAX_PAGES_ENDLESS = 6


def _endless(ctx: Context) -> list[Step]:
    section = "/news/politics/"
    for page in range(ctx.last_page("politics") + 1, MAX_PAGES_ENDLESS + 1):
        for path in endless_story_paths(section, page):
            story = generated_story(path)
            ctx.extra_expected[path] = {"title": story.title, "body": story.body}
    return [Step(Faults(endless=section), spider_args={"max_pages": str(MAX_PAGES_ENDLESS)})]


def _endless_check(ctx: Context, runs: list[RunResult]) -> list[str]:
    pages = {p for p in ctx.server.paths_requested() if re.fullmatch(r"/news/politics/index.*", p)}
    if len(pages) > MAX_PAGES_ENDLESS:
        return [f"paged {len(pages)} politics listing pages past max_pages={MAX_PAGES_ENDLESS}"]
    return []


# -- hostile content -----------------------------------------------------------------

HOSTILE_DAY = "/news/politics/2025-01-11/"


def _hostile(ctx: Context, pages: dict[str, bytes], *, must: Iterable[str] = ()) -> list[Step]:
    """Serve ``pages`` and list them on top of politics page 1. Those in ``must`` are
    stories that must be delivered; the others may be delivered or dropped."""
    items = [(path, f"Hostile page {i}", "Jan 11, 2025") for i, path in enumerate(pages)]
    required = set(must)
    for path in pages:
        if path in required:
            ctx.extra_expected.setdefault(path, None)
        else:
            ctx.optional.add(path)
    faults = Faults(
        extra_items={ctx.listing("politics", 1): items},
        pages={path: (body, HTML_UTF8) for path, body in pages.items()},
    )
    return [Step(faults)]


def _control_characters(ctx: Context) -> list[Step]:
    """Two pages. The first is valid UTF-8 holding control characters (raw and as
    entities) and surrogate and NUL entities: it is a story, it must be delivered,
    clean. The second holds bytes that are not UTF-8 at all (surrogates encoded in
    UTF-8, an overlong form, stray bytes): delivered clean or dropped, never raw."""
    title = (
        "Harbour &#x1;authority&#x7; reports &#xD800;record&#xDFFF; cargo &#0;volumes "
        "&#x1b;[31m&#x7f;&#x9f; \x01\x02\x1b\x7f\x08 in Ningbo"
    )
    story = generated_story("control")
    paragraphs = [
        "Cargo\x01 throughput\x02 at the port rose 4.1 percent\x1b[0m in the first\x7f "
        "eleven months &#x8;&#xFFFE;&#xDBFF;&#xDC00;&#xB; of the year, the authority said.",
        "Shipping lines\x0c added\x0b routes \x1c\x1d\u2028\u2029 to Southeast Asia.",
        *(html.escape(p, quote=False) for p in story.paragraphs),
    ]
    valid = article_page(title, paragraphs, head_title="Harbour \x01authority\x7f reports")
    raw = b"\xed\xa0\x80\xed\xbf\xbf\xc0\xaf\x80\xff\xfe"  # surrogates in UTF-8, overlong, stray
    story = generated_story("control-raw")
    paragraphs = [
        "Raw bytes follow: @RAW@ and a NUL \x00 then more text.",
        *(html.escape(p, quote=False) for p in story.paragraphs),
    ]
    invalid = article_page(f"Port @RAW@ statistics {story.title}", paragraphs)
    valid_path = f"{HOSTILE_DAY}detail-hostilectrl01.shtml"
    pages = {
        valid_path: valid.encode("utf-8"),
        f"{HOSTILE_DAY}detail-hostilectrl02.shtml": invalid.encode("utf-8").replace(b"@RAW@", raw),
    }
    return _hostile(ctx, pages, must=[valid_path])


def _huge_title(ctx: Context) -> list[Step]:
    title = ("Officials discuss port logistics and regional trade " * 20000)[:1_000_000]
    story = generated_story("hugetitle")
    paragraphs = [html.escape(p, quote=False) for p in story.paragraphs]
    page = article_page(title, paragraphs).encode("utf-8")
    return _hostile(ctx, {f"{HOSTILE_DAY}detail-hostiletitle01.shtml": page})


def _script_elements(ctx: Context) -> list[Step]:
    m = SCRIPT_MARKER
    title = (
        f'Ministry opens <script>var {m} = 1; alert("{m}")</script>new trade office'
        f"<style>.{m} {{ color: red }}</style>"
    )
    story = generated_story("script")
    paragraphs = [
        f'The office <script>document.write("{m}")</script>will serve exporters in the region.',
        f"<img src=\"javascript:alert('{m}')\" onerror=\"alert('{m}')\">Officials said the "
        "plan was agreed in May after months of talks.",
        f"<a href=\"javascript:alert('{m}')\">Read more</a> about the trade office and its "
        "services for small firms.",
        f'<iframe src="javascript:alert(1)">{m}</iframe>More support is expected next year.',
        f'<svg onload="alert(1)"><script>{m}</script></svg>The ministry will report in June.',
        *(html.escape(p, quote=False) for p in story.paragraphs),
    ]
    path = f"{HOSTILE_DAY}detail-hostilescript01.shtml"
    body = "\n\n".join(
        [
            "The office will serve exporters in the region.",
            "Officials said the plan was agreed in May after months of talks.",
            "Read more about the trade office and its services for small firms.",
            "More support is expected next year.",
            "The ministry will report in June.",
            *story.paragraphs,
        ]
    )
    page = article_page(title, paragraphs, head_title="Ministry opens new trade office")
    steps = _hostile(ctx, {path: page.encode("utf-8")}, must=[path])
    ctx.extra_expected[path] = {"title": "Ministry opens new trade office", "body": body}
    return steps


def _escaped_markup(ctx: Context) -> list[Step]:
    title = "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt; Minister visits new port"
    story = generated_story("escaped")
    paragraphs = [
        "The text &lt;script&gt;alert(1)&lt;/script&gt; was shown on a screen, officials said.",
        "&lt;img src=x onerror=alert(1)&gt; A second sentence follows with more detail.",
        "&lt;IFRAME SRC=&quot;javascript:alert(1)&quot;&gt;&lt;/IFRAME&gt; ends the page.",
        *(html.escape(p, quote=False) for p in story.paragraphs),
    ]
    path = f"{HOSTILE_DAY}detail-hostileescaped01.shtml"
    return _hostile(ctx, {path: article_page(title, paragraphs).encode("utf-8")}, must=[path])


# Links crafted to make a careless crawler write outside its folders.
ESCAPE_HREFS = (
    f"{HOSTILE_DAY}detail-..%2F..%2Fx.shtml",
    f"{HOSTILE_DAY}detail-..%2F..%2F..%2F..%2F..%2F..%2F..%2Ftmp%2Fescaped.shtml",
    f"{HOSTILE_DAY}detail-%2e%2e%2f%2e%2e%2fescape.shtml",
    f"{HOSTILE_DAY}../../../../../escape.shtml",
    f"{HOSTILE_DAY}detail-..\\..\\..\\x.shtml",
    f"{HOSTILE_DAY}detail-abc%00def.shtml",
    f"{HOSTILE_DAY}detail-abc%0a..%2fdef.shtml",
    f"{HOSTILE_DAY}detail-{'a' * 200}.shtml",
    f"{HOSTILE_DAY}detail-{'b' * 5000}.shtml",
)
ESCAPE_NAMES = ("x.shtml", "escaped.shtml", "escape.shtml", "def.shtml")


def _path_escape(ctx: Context) -> list[Step]:
    items = [(href, f"Path probe {i}", "Jan 11, 2025") for i, href in enumerate(ESCAPE_HREFS)]
    faults = Faults(
        extra_items={ctx.listing("politics", 1): items}, serve_unknown_articles=HOSTILE_DAY
    )
    ctx.scratch["escape_any"] = True
    return [Step(faults)]


def _path_escape_check(ctx: Context, runs: list[RunResult]) -> list[str]:
    problems = []
    for folder in (PROJECT_ROOT, Path(tempfile.gettempdir()), ctx.work.parent):
        for name in ESCAPE_NAMES:
            if (folder / name).exists():
                problems.append(f"{folder / name} exists")
    return problems


# -- local faults ----------------------------------------------------------------------


def _root() -> bool:
    return os.geteuid() == 0


def _read_only_output(ctx: Context) -> list[Step]:
    def setup(c: Context) -> None:
        c.out.mkdir(parents=True, exist_ok=True)
        c.out.chmod(0o500)

    def teardown(c: Context) -> None:
        c.out.chmod(0o700)

    # Root writes through mode bits: its crawl runs without CAP_DAC_OVERRIDE.
    env = {"NEWSCRAWL_FAULT_DROP_DAC": "1"} if _root() else {}
    return [
        Step(
            expect_exit=frozenset({6}),
            env=env,
            setup=setup,
            teardown=teardown,
            message=r"(?i)permission denied|not writable|cannot write",
        ),
        Step(),
    ]


def _output_is_a_file(ctx: Context) -> list[Step]:
    def setup(c: Context) -> None:
        c.out.parent.mkdir(parents=True, exist_ok=True)
        c.out.write_text("a file where the output folder should be\n", encoding="utf-8")

    def teardown(c: Context) -> None:
        c.out.unlink()

    return [
        Step(
            expect_exit=frozenset({6}),
            setup=setup,
            teardown=teardown,
            message=r"(?i)not a directory|exists|not writable|cannot write",
        ),
        Step(),
    ]


DISK_BYTES = 64 * 1024


def _disk_full(ctx: Context) -> list[Step]:
    hooks = ctx.work / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "sitecustomize.py").write_text(ENOSPC_HOOK, encoding="utf-8")
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hooks), os.environ.get("PYTHONPATH")])),
        "NEWSCRAWL_FAULT_ENOSPC_DIR": str(ctx.out),
        "NEWSCRAWL_FAULT_ENOSPC_BYTES": str(DISK_BYTES),
        "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ beside the hook
    }
    return [
        Step(expect_exit=frozenset({6}), env=env, message=r"(?i)no space left|disk full"),
        Step(),
    ]


FILE_SIZE_LIMIT = 128 * 1024


def _file_size_limit(ctx: Context) -> list[Step]:
    return [
        # Which file reaches the limit first decides the code: 6 (output) or 8 (state).
        Step(
            expect_exit=frozenset({6, 8}),
            env={"NEWSCRAWL_FAULT_FSIZE": str(FILE_SIZE_LIMIT)},
            message=r"(?i)file too large|disk is full|no space",
        ),
        Step(),
    ]


def _db(ctx: Context) -> Path:
    return ctx.state / "newscrawl.sqlite3"


def _state_locked(ctx: Context) -> list[Step]:
    def lock(c: Context) -> None:
        con = sqlite3.connect(_db(c), isolation_level=None, timeout=0)
        con.execute("BEGIN EXCLUSIVE")
        c.held.append(con)

    def unlock(c: Context) -> None:
        while c.held:
            con = c.held.pop()
            con.rollback()
            con.close()

    return [
        Step(sections=("politics",)),
        Step(
            expect_exit=frozenset({8}),
            setup=lock,
            teardown=unlock,
            message=r"(?i)locked",
        ),
        Step(),
    ]


def _state_corrupted(ctx: Context) -> list[Step]:
    def corrupt(c: Context) -> None:
        with _db(c).open("r+b") as f:
            f.write(b"\xde\xad\xbe\xef garbage, not a database header " * 3)
        c.scratch["db_sha"] = hashlib.sha256(_db(c).read_bytes()).hexdigest()

    return [
        Step(sections=("politics",)),
        Step(
            expect_exit=frozenset({8}),
            setup=corrupt,
            message=r"(?i)not a database|corrupt|malformed",
        ),
    ]


def _state_kept(ctx: Context, runs: list[RunResult]) -> list[str]:
    db = _db(ctx)
    if not db.is_file():
        return ["the state database is gone after the failed run"]
    if hashlib.sha256(db.read_bytes()).hexdigest() != ctx.scratch.get("db_sha"):
        return ["the corrupted state database was changed (silently reset?)"]
    return []


CASES: tuple[Case, ...] = (
    Case("connection-reset", "server", "TCP resets (2 a path) are retried", _resets),
    Case("connection-closed", "server", "closes without an answer (2 a path) are retried", _closes),
    Case("slow-response", "server", "answers slower than DOWNLOAD_TIMEOUT are retried", _slow),
    Case("5xx-burst", "server", "500/502/503 twice a path, retried", _five_hundreds),
    Case("429-retry-after", "server", "429 with Retry-After is waited for and retried", _too_many),
    Case("truncated-length", "server", "Content-Length longer than the body: retried", _short_body),
    Case("10mb-page", "server", "a 10 MB article and listing page are read whole", _huge),
    Case("gbk-declared-utf8", "server", "GBK bytes declared UTF-8: text intact", _charset(GBK)),
    Case("no-charset", "server", "no charset anywhere: text intact", _charset(NO_CHARSET)),
    Case(
        "robots-disallow",
        "server",
        "robots.txt disallows /cns-wire/: never requested, the rest delivered",
        _robots,
        check=_robots_check,
    ),
    Case("connection-refused", "next-run", "site down: exit 4, the next run delivers", _refused),
    Case(
        "resets-beyond-retries",
        "next-run",
        "pages failing past the retries are delivered by the next run",
        _resets_beyond_retries,
    ),
    Case(
        "truncated-mid-paragraph",
        "next-run",
        "a page cut mid-paragraph (right length) is not delivered cut; the next run has it",
        _cut,
    ),
    Case(
        "redirect-loop",
        "next-run",
        "redirect loops and endless chains end; the next run delivers what they hid",
        _redirect_loops,
    ),
    Case(
        "redirect-offsite",
        "next-run",
        "redirects to another domain are not followed; the next run delivers",
        _redirect_offsite,
        check=_no_offsite_request,
    ),
    Case(
        "listing-all-offsite",
        "next-run",
        "a listing whose items all point off-site: nothing off-site fetched",
        _offsite_listing,
        check=_no_offsite_request,
    ),
    Case(
        "endless-listing",
        "server",
        f"a listing that never ends stops at max_pages={MAX_PAGES_ENDLESS}",
        _endless,
        check=_endless_check,
    ),
    Case(
        "control-characters",
        "hostile",
        "control characters and lone surrogates never reach the output",
        _control_characters,
    ),
    Case("1mb-title", "hostile", "a 1 MB title: the run survives, output valid", _huge_title),
    Case(
        "script-elements",
        "hostile",
        "<script>/<style>/<iframe> inside h1 and p: their code never reaches a field",
        _script_elements,
    ),
    Case(
        "escaped-markup",
        "hostile",
        "&lt;script&gt; shown as text is delivered as that text (fields are plain text)",
        _escaped_markup,
        shows_markup_as_text=True,
    ),
    Case(
        "path-escape-ids",
        "hostile",
        "ids and paths crafted to escape the output folder write nothing outside it",
        _path_escape,
        check=_path_escape_check,
    ),
    Case(
        "output-read-only",
        "local",
        "output folder not writable: exit 6, the next run delivers",
        _read_only_output,
    ),
    Case(
        "output-path-is-a-file",
        "local",
        "the output folder is a file: exit 6, the next run delivers",
        _output_is_a_file,
    ),
    Case("disk-full", "local", "ENOSPC on the output disk: exit 6, next run delivers", _disk_full),
    Case(
        "file-size-limit",
        "local",
        f"RLIMIT_FSIZE {FILE_SIZE_LIMIT // 1024} KB, EFBIG on any file: exit 6|8, next run ok",
        _file_size_limit,
    ),
    Case(
        "state-locked",
        "local",
        "state database locked by another program: exit 8, nothing lost or reset",
        _state_locked,
    ),
    Case(
        "state-corrupted",
        "local",
        "state database corrupted: exit 8, a clear message, the file left as it is",
        _state_corrupted,
        recoverable=False,
        check=_state_kept,
    ),
)
CASES_BY_NAME = {case.name: case for case in CASES}


# --- Measuring ------------------------------------------------------------------------


@dataclass
class Row:
    """The measurement of one case: one line of the table."""

    name: str
    kind: str
    behaviour: str
    recoverable: bool
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    damaged: int = 0
    exits: list[int | None] = field(default_factory=list)
    expect_exits: list[frozenset[int]] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)  # unhandled tracebacks
    logged_tracebacks: list[str] = field(default_factory=list)  # after a handled error
    problems: list[str] = field(default_factory=list)
    output_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    runs: list[RunResult] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def exits_ok(self) -> bool:
        return all(code in want for code, want in zip(self.exits, self.expect_exits, strict=True))

    @property
    def survived(self) -> bool:
        """No crash, no hang, valid output, nothing let in, nothing duplicated."""
        return (
            self.exits_ok
            and not self.crashes
            and not self.problems
            and not self.output_problems
            and self.unexpected == 0
            and self.duplicated == 0
        )

    @property
    def ok(self) -> bool:
        if self.skipped:
            return True
        if not self.survived:
            return False
        return not self.recoverable or (self.lost == 0 and self.damaged == 0)

    def explain(self) -> str:
        """Why the row is not right, with the evidence (for test failures)."""
        lines = [
            f"{self.name}: expected {self.expected}, delivered {self.delivered}, lost {self.lost},"
            f" duplicated {self.duplicated}, unexpected {self.unexpected}, damaged {self.damaged};"
            f" exits {self.exits} (want {[sorted(w) for w in self.expect_exits]})",
        ]
        lines += [f"  problem: {p}" for p in self.problems + self.output_problems]
        lines += [f"  traceback: {c}" for c in self.crashes]
        lines += [f"  e.g. {e}" for e in self.examples[:5]]
        for i, run in enumerate(self.runs, 1):
            if run.exit_code not in self.expect_exits[i - 1] or self.crashes:
                lines.append(f"  run {i} stderr (last lines):")
                lines += ["    " + line for line in run.stderr.strip().splitlines()[-25:]]
        return "\n".join(lines)


LOG_RECORD_RE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d+)? "
    r"\[(?P<logger>[^\]]+)\] (?P<level>[A-Z]+): (?P<msg>.*)"
)
# Loggers whose tracebacks follow an error that was handled: the crawler's own
# ``logger.exception`` where it recovers, and Scrapy's robots.txt download failure
# (the site is then crawled as if it had no robots.txt).
HANDLED_LOGGERS = ("newscrawl", "scrapy.downloadermiddlewares.robotstxt")


def tracebacks(stderr: str) -> tuple[list[str], list[str]]:
    """The tracebacks in ``stderr``, one per log record, as ``[logger] message →
    exception``: (unhandled, handled). Unhandled: Scrapy's "Error processing" (an
    item pipeline raised), "Spider error processing", "Error caught on signal
    handler", Twisted's "Unhandled error in Deferred", a failing log handler, and
    a traceback no warning or error record announces (the process died)."""
    unhandled: list[str] = []
    handled: list[str] = []
    record: tuple[int, str, str] | None = None  # (line number, logger, message)
    reported: set[int] = set()
    lines = stderr.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = LOG_RECORD_RE.match(line)
        if m:
            level = m.group("level")
            announces = level in ("WARNING", "ERROR", "CRITICAL")
            record = (i, m.group("logger"), m.group("msg")) if announces else None
        elif line.startswith("--- Logging error ---"):
            record = (i, "logging", "a log handler failed")
        elif line.startswith("Traceback (most recent call last):"):
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j][0] in " \t"):
                j += 1
            exc = lines[j].strip() if j < len(lines) else "?"
            if record is None or record[0] not in reported:
                if record is not None:
                    reported.add(record[0])
                where = f"[{record[1]}] {record[2][:70]}" if record else "(no log record)"
                ours = record is not None and record[1].startswith(HANDLED_LOGGERS)
                (handled if ours else unhandled).append(f"{where} -> {exc[:150]}")
            i = j
        i += 1
    return unhandled, handled


TEXT_FIELDS = ("title", "body", "source", "editor", "published_raw")
RUNNABLE_MARKUP_RE = re.compile(
    r"<\s*/?\s*(?:script|iframe|object|embed|svg|img|style|link|meta|frame)\b", re.IGNORECASE
)


def string_problems(value: Any, where: str) -> list[str]:
    """Control characters (but ``\\n``) and lone surrogates anywhere in a JSON value."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in string_problems(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in string_problems(v, f"{where}[{i}]")]
    if not isinstance(value, str):
        return []
    problems = []
    bad = sorted({c for c in value if unicodedata.category(c) in ("Cc", "Cs") and c != "\n"})
    if bad:
        problems.append(f"{where} holds {', '.join(f'U+{ord(c):04X}' for c in bad[:6])}")
    return problems


def output_problems(out: Path, netloc: str, shows_markup_as_text: bool = False) -> list[str]:
    """What is wrong with the output files a consumer could read: every ``*.jsonl``
    must be UTF-8 JSON objects one a line, data and never markup (unless the page
    itself shows markup as text); every complete manifest must name existing files
    with their item count and sha256."""
    problems: list[str] = []
    if not out.is_dir():
        return problems
    for path in sorted(out.glob("*.jsonl")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{path.name}: not UTF-8 ({exc})")
            continue
        if text and not text.endswith("\n"):
            problems.append(f"{path.name}: last line not terminated")
        for n, line in enumerate(text.splitlines(), 1):
            try:
                item = json.loads(line)
            except ValueError as exc:
                problems.append(f"{path.name}:{n}: not JSON ({exc})")
                continue
            if not isinstance(item, dict):
                problems.append(f"{path.name}:{n}: not an object")
                continue
            where = f"{path.name}:{n}"
            problems += string_problems(item, where)
            fields = [item.get(f) for f in TEXT_FIELDS]
            fields += [img.get("caption") for img in item.get("images") or []]
            text_values = [v for v in fields if isinstance(v, str)]
            if not shows_markup_as_text and any(RUNNABLE_MARKUP_RE.search(v) for v in text_values):
                problems.append(f"{where}: markup that runs in a text field")
            if any(SCRIPT_MARKER in v for v in text_values):
                problems.append(f"{where}: a <script> element's code in a text field")
            for img in item.get("images") or []:
                if not str(img.get("url", "")).startswith(("http://", "https://")):
                    problems.append(f"{where}: image URL {str(img.get('url'))[:60]!r}")
            if urlsplit(str(item.get("url", ""))).netloc != netloc:
                problems.append(f"{where}: off-site URL {str(item.get('url'))[:80]}")
    for manifest_path in sorted(out.glob("*.manifest.json")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("status") != "complete":
            continue
        for f in manifest["files"]:
            path = out / f["path"]
            if not path.is_file():
                problems.append(f"{manifest_path.name}: names missing {f['path']}")
                continue
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != f["sha256"]:
                problems.append(f"{manifest_path.name}: sha256 of {f['path']} differs")
            if data.count(b"\n") != f["items"]:
                problems.append(f"{manifest_path.name}: item count of {f['path']} differs")
    return problems


def delivered_items(out: Path) -> list[dict[str, Any]]:
    """What a consumer reading only files named in complete manifests receives."""
    items: list[dict[str, Any]] = []
    if not out.is_dir():
        return items
    for manifest_path in sorted(out.glob("*.manifest.json")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("status") != "complete":
            continue
        for f in manifest["files"]:
            path = out / f["path"]
            if not path.is_file():
                continue
            with path.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    try:
                        item = json.loads(line)
                    except ValueError:
                        continue  # reported by output_problems
                    if isinstance(item, dict) and isinstance(item.get("url"), str):
                        items.append(item)
    return items


def state_delivered(state: Path) -> set[str] | None:
    """URLs the state database holds as delivered; None when it cannot be read."""
    db = state / "newscrawl.sqlite3"
    if not db.is_file():
        return set()
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            rows = con.execute("SELECT url FROM stories WHERE outcome = 'delivered'")
            return {url for (url,) in rows}
        finally:
            con.close()
    except sqlite3.Error:
        return None


def tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")} if root.exists() else set()


def measure(case: Case, site_root: Path, work: Path) -> Row:
    """Run ``case`` against a fault server on the replica at ``site_root``, in ``work``."""
    row = Row(case.name, case.kind, case.behaviour, case.recoverable)
    site_dir = site_dir_of(site_root)
    with (site_root / TRUTH_FILE).open(encoding="utf-8") as f:
        truth = [json.loads(line) for line in f]
    shutil.rmtree(work, ignore_errors=True)  # a kept folder from an earlier measurement
    work.mkdir(parents=True)
    # Deep folders: an id that climbs out of the output folder lands inside ``work``.
    nest = work / "crawl" / "a" / "b"
    server = FaultServer(site_dir)
    ctx = Context(work, site_dir, truth, server, nest / "out", nest / "state")
    with server:
        steps = case.build(ctx)
        before = tree(work)
        started = time.monotonic()
        for step in steps:
            if step.setup:
                step.setup(ctx)
            try:
                if step.faults is None:
                    server.pause()
                else:
                    server.start()
                    server.set_faults(step.faults)
                sections = step.sections or ctx.sections
                result = run_crawl(
                    server.base_url,
                    ctx.out,
                    ctx.state,
                    spider_args={"sections": ",".join(sections), **step.spider_args},
                    settings=step.settings,
                    env=step.env,
                )
            finally:
                if step.teardown:
                    step.teardown(ctx)
            row.runs.append(result)
            row.exits.append(result.exit_code)
            row.expect_exits.append(step.expect_exit)
            if result.exit_code == DROP_DAC_FAILED:
                row.skipped = "cannot drop CAP_DAC_OVERRIDE: a folder is writable for root here"
                break
            if result.exit_code is None:
                row.problems.append(f"run {len(row.runs)} hung: killed after {RUN_TIMEOUT:.0f} s")
            failed = step.message and result.exit_code != 0
            if failed and not re.search(step.message or "", result.stderr):
                row.problems.append(
                    f"run {len(row.runs)}: no clear message (/{step.message}/) in stderr"
                )
            unhandled, handled = tracebacks(result.stderr)
            row.crashes += [f"run {len(row.runs)}: {t}" for t in unhandled]
            row.logged_tracebacks += [f"run {len(row.runs)}: {t}" for t in handled]
            marked = state_delivered(ctx.state)
            named = {item["url"] for item in delivered_items(ctx.out)}
            if marked is not None and marked - named:
                row.problems.append(
                    f"run {len(row.runs)}: {len(marked - named)} stories marked delivered"
                    " that no complete manifest holds"
                )
        row.seconds = time.monotonic() - started
        # The run may make the folders' parents, and anything inside them; nothing else.
        parents = {*ctx.out.parents, *ctx.state.parents}
        outside = [
            p
            for p in tree(work) - before
            if not (p.is_relative_to(ctx.out) or p.is_relative_to(ctx.state))
            and not (p in parents and p.is_dir())
        ]
        if outside:
            row.problems.append(f"files created outside output and state: {sorted(outside)[:3]}")
        if case.check:
            row.problems += case.check(ctx, row.runs)
    row.output_problems = output_problems(ctx.out, server.netloc, case.shows_markup_as_text)
    _count(row, ctx)
    for held in ctx.held:
        held.close()
    return row


def _count(row: Row, ctx: Context) -> None:
    """Expected, delivered, lost, duplicated, unexpected and damaged stories."""
    sections = set(ctx.sections)
    dup_of = {r["path"]: r["duplicate_of"] for r in ctx.truth if r["expect"] == "duplicate"}
    records = {r["path"]: r for r in ctx.truth}

    def key(path: str) -> str:
        return dup_of.get(path, path)

    wanted = ctx.expect_story or (lambda r: bool(set(r["listed_in"]) & sections))
    expected = {
        key(r["path"]) for r in ctx.truth if r["expect"] in ("delivered", "duplicate") and wanted(r)
    }
    expected |= set(ctx.extra_expected)
    items = delivered_items(ctx.out)
    keys = Counter(key(urlsplit(item["url"]).path) for item in items)
    row.expected = len(expected)
    row.delivered = len(set(keys) & expected)
    row.lost = len(expected - set(keys))
    row.duplicated = sum(n - 1 for n in keys.values() if n > 1)
    extra = [k for k in keys if k not in expected and k not in ctx.optional]
    if ctx.scratch.get("escape_any"):  # generated probes: any may or may not be delivered
        extra = [k for k in extra if k in records]
    row.unexpected = len(extra)
    row.examples += [f"lost {p}" for p in sorted(expected - set(keys))[:3]]
    row.examples += [f"unexpected {p}" for p in extra[:3]]
    row.examples += [f"delivered {n} times: {k}" for k, n in keys.items() if n > 1][:3]
    for item in items:
        path = urlsplit(item["url"]).path
        want = ctx.overrides.get(path) or ctx.extra_expected.get(path) or records.get(path)
        if not want or "title" not in want:
            continue
        for name in ("title", "body"):
            if item.get(name) != want[name]:
                row.damaged += 1
                got = str(item.get(name))
                at = next(
                    (i for i, (a, b) in enumerate(zip(got, want[name], strict=False)) if a != b),
                    min(len(got), len(want[name])),
                )
                row.examples.append(
                    f"damaged {name} of {path}: got {got[max(0, at - 20) : at + 40]!r}"
                    f" want {want[name][max(0, at - 20) : at + 40]!r}"
                )
                break


def run_suite(
    names: Sequence[str] | None = None,
    *,
    work: Path | None = None,
    jobs: int = 1,
    progress: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Build a replica and measure the named cases (all by default)."""
    cases = [CASES_BY_NAME[n] for n in names] if names else list(CASES)
    owned = work is None
    root = Path(tempfile.mkdtemp(prefix="newscrawl-faults-")) if work is None else work
    try:
        site_root = root / "replica"
        if not (site_root / TRUTH_FILE).is_file():
            build_site(site_root)

        def one(case: Case) -> Row:
            row = measure(case, site_root, root / case.name)
            if progress:
                progress(row)
            return row

        with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
            return list(pool.map(one, cases))
    finally:
        if owned:
            shutil.rmtree(root, ignore_errors=True)


def summarize(tracebacks: Sequence[str]) -> list[str]:
    """``N x [logger] message -> ExceptionType`` per kind of traceback, most first."""
    kinds: Counter[str] = Counter()
    for line in tracebacks:
        m = re.match(r"run \d+: (\[[^\]]+\]|\(no log record\)) ?(.*?) -> ([\w.]+)", line)
        if m:
            words = " ".join(m.group(2).split()[:2])
            kinds[f"{m.group(1)} {words} ... -> {m.group(3)}"] += 1
        else:
            kinds[line[:100]] += 1
    return [f"{n} x {kind}" for kind, n in kinds.most_common()]


def _exit_text(row: Row) -> str:
    got = "/".join("hung" if c is None else str(c) for c in row.exits)
    want = "/".join("|".join(str(c) for c in sorted(w)) for w in row.expect_exits)
    return f"{got} ({want})"


def format_table(rows: Sequence[Row]) -> str:
    """The suite's table: one line per fault, then the problems of failed ones."""
    header = (
        f"{'fault':<24} {'kind':<8} {'expect':>6} {'deliv':>5} {'lost':>4} {'dup':>3}"
        f" {'extra':>5} {'dmg':>3}  {'exit (want)':<16} {'crash':>5} {'tb':>3} {'time':>6}  result"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        result = "SKIP" if r.skipped else ("ok" if r.ok else "FAIL")
        lines.append(
            f"{r.name:<24} {r.kind:<8} {r.expected:>6} {r.delivered:>5} {r.lost:>4}"
            f" {r.duplicated:>3} {r.unexpected:>5} {r.damaged:>3}  {_exit_text(r):<16}"
            f" {len(r.crashes):>5} {len(r.logged_tracebacks):>3} {r.seconds:>5.1f}s  {result}"
        )
    failed = [r for r in rows if not r.ok or r.skipped]
    if failed:
        lines.append("")
    for r in failed:
        if r.skipped:
            lines.append(f"{r.name}: skipped: {r.skipped}")
            continue
        notes = r.problems + r.output_problems[:3] + summarize(r.crashes) + r.examples[:3]
        lines.append(f"{r.name}: {r.behaviour}")
        lines += [f"    {n[:160]}" for n in notes]
    total = sum(r.seconds for r in rows)
    lines.append("")
    lines.append(
        "expect: stories a consumer must receive; deliv: received once from complete manifests;"
        " extra: received but not listed (off-site, forbidden); dmg: title or body not as the"
        " page shows it; crash: unhandled tracebacks; tb: tracebacks logged after handled errors"
    )
    lines.append(
        f"{sum(r.ok for r in rows)} of {len(rows)} faults handled right; {total:.0f} s of crawling"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m replica.faults",
        description="Run the crawler against a misbehaving replica, one fault at a time,"
        " and print what it delivered, lost and duplicated.",
    )
    parser.add_argument("faults", nargs="*", help="fault names (default: all; see --list)")
    parser.add_argument("--list", action="store_true", help="list the faults and exit")
    parser.add_argument("--jobs", type=int, default=1, help="faults measured at once")
    parser.add_argument("--keep", type=Path, help="work here and keep the folders")
    parser.add_argument("--serve", metavar="FAULT", help="serve FAULT's first run and wait")
    parser.add_argument("--port", type=int, default=0, help="port for --serve")
    args = parser.parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name:<24} {case.kind:<8} {case.behaviour}")
        return 0
    named = [*args.faults, *([args.serve] if args.serve else [])]
    unknown = [n for n in named if n not in CASES_BY_NAME]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; see --list")
    if args.serve:
        return _serve(CASES_BY_NAME[args.serve], args.keep, args.port)
    started = time.monotonic()
    rows = run_suite(
        args.faults or None,
        work=args.keep,
        jobs=args.jobs,
        progress=lambda r: print(
            f"  {r.name}: {'ok' if r.ok else 'FAIL'} ({r.seconds:.1f} s)", file=sys.stderr
        ),
    )
    print(format_table(rows))
    print(f"wall time {time.monotonic() - started:.0f} s")
    return 0 if all(r.ok for r in rows) else 1


def _serve(case: Case, keep: Path | None, port: int) -> int:
    """Serve the first run's faults of ``case`` on 127.0.0.1 until Ctrl-C."""
    root = keep or Path(tempfile.mkdtemp(prefix="newscrawl-faults-"))
    try:
        site_root = root / "replica"
        if not (site_root / TRUTH_FILE).is_file():
            build_site(site_root)
        with (site_root / TRUTH_FILE).open(encoding="utf-8") as f:
            truth = [json.loads(line) for line in f]
        server = FaultServer(site_root, port=port)
        ctx = Context(root, site_dir_of(site_root), truth, server, root / "out", root / "state")
        steps = case.build(ctx)
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C
        with server:
            server.set_faults(steps[0].faults or Faults())
            print(f"listening on {server.base_url} ({case.name}: {case.behaviour})", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
