"""Pages whose bytes do not match their declared charset, or that were cut short.

ECNS serves UTF-8. Declarations lie both ways. A UTF-8 page declared ``gbk`` (in
its Content-Type header or its ``<meta charset>``) would be decoded as GBK into
mojibake: a body that is valid UTF-8 and holds non-ASCII bytes is decoded as UTF-8
whatever is declared (GBK text that happens to be valid UTF-8 is vanishingly
rare: its two-byte characters would have to pair up as UTF-8 sequences
throughout). A body that is not valid UTF-8 (GBK text in a page declared UTF-8,
or a page declaring nothing) would be decoded with replacement characters or as
cp1252 mojibake: it is decoded as GB18030 (the superset of GBK that China News
Service's Chinese pages use) when it is valid in it. Otherwise the page is
misdecoded, and :func:`misdecoding_reason` says which charsets were tried.
"""

from __future__ import annotations

import codecs
import re

from scrapy.http import TextResponse
from w3lib.encoding import read_bom

from newscrawl.extract.body import BODY_END_MARK, BODY_START_MARK

FALLBACK_ENCODING = "gb18030"
# ``</html>`` or ``</body>`` in any case, looked for in the page's last 4096
# characters. ASCII case only, as ``str.lower()`` found it before (no other character
# lowers to these letters), without lowering 4 KB of text per page (~12 µs).
_DOCUMENT_END_RE = re.compile(r"</(?:[hH][tT][mM][lL]|[bB][oO][dD][yY])>")
# A charset declared in a Content-Type header or a <meta> element (charset= or
# http-equiv's content="text/html; charset=…"), as written.
_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?\s*([^\s;"'/>]+)""", re.IGNORECASE)
_META_CHARSET_RE = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([^\s;"'/>]+)""", re.IGNORECASE
)


def redecode(response: TextResponse) -> TextResponse:
    """The response decoded as UTF-8 when its body is UTF-8, else as GB18030 when
    its body is that; as it came otherwise (see the module's docstring)."""
    body = response.body
    if _fits(body, "utf-8"):
        if _codec(response.encoding) == "utf-8" or body.isascii():
            return response
        return response.replace(encoding="utf-8")
    if _codec(response.encoding) == FALLBACK_ENCODING or not _fits(body, FALLBACK_ENCODING):
        return response
    return response.replace(encoding=FALLBACK_ENCODING)


def is_truncated(response: TextResponse) -> bool:
    """A page cut short in transfer (a Content-Length that matched a cut body):
    its body opens but never closes, or the document has no end at all."""
    text = response.text
    if BODY_START_MARK in text and BODY_END_MARK not in text:
        return True
    return _DOCUMENT_END_RE.search(text, max(0, len(text) - 4096)) is None


def misdecoding_reason(response: TextResponse) -> str | None:
    """Why the response's text (after :func:`redecode`) is not the page's text, or
    None when it is: "its bytes fit neither its declared charset (gbk) nor UTF-8 nor
    GB18030", "it declares no charset, and its bytes fit neither UTF-8 nor GB18030".

    A page that declares no charset Python knows, and is neither UTF-8 nor GB18030,
    is misdecoded too: Scrapy would read it as cp1252, which turns almost any bytes
    into mojibake.
    """
    body = response.body
    declared = None
    if _fits(body, response.encoding):
        if _codec(response.encoding) in ("utf-8", FALLBACK_ENCODING):
            return None
        declared = declared_charset(response)
        if declared is not None and _known(declared):
            return None
    declared = declared or declared_charset(response)
    if declared is None:
        return "it declares no charset, and its bytes fit neither UTF-8 nor GB18030"
    others = [
        name
        for name, codec in (("UTF-8", "utf-8"), ("GB18030", FALLBACK_ENCODING))
        if _codec(declared) != codec
    ]
    return f"its bytes fit neither its declared charset ({declared}) nor {' nor '.join(others)}"


def is_misdecoded(response: TextResponse) -> bool:
    """Bytes that fit neither the declared charset nor UTF-8 nor the fallback (see
    :func:`misdecoding_reason`, which says so in words)."""
    return misdecoding_reason(response) is not None


def declared_charset(response: TextResponse) -> str | None:
    """The charset the page declares, as it writes it (lower-cased): its byte order
    mark, else its Content-Type header, else its ``<meta>`` (the order Scrapy reads
    them in); None when it declares none."""
    bom, _ = read_bom(response.body)
    if bom:
        return bom
    content_type = response.headers.get(b"Content-Type") or b""
    found = _CHARSET_RE.search(content_type) or _META_CHARSET_RE.search(response.body, 0, 4096)
    return found.group(1).decode("latin-1").lower() if found else None


def _fits(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _known(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


def _codec(encoding: str) -> str:
    """The codec's canonical name (``UTF8`` and ``utf_8`` are ``utf-8``)."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding.lower()
