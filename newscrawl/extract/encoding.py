"""Pages whose bytes do not match their declared charset, or that were cut short.

ECNS serves UTF-8. A body that is not valid UTF-8 (GBK text in a page declared
UTF-8, or a page declaring nothing) would otherwise be decoded with
replacement characters or as cp1252 mojibake: a silently wrong field. Such a
body is decoded as GB18030 (the superset of GBK that China News Service's
Chinese pages use) when it is valid in it; otherwise the replacement
characters stay and validation drops the item with its reason.
"""

from __future__ import annotations

import re

from scrapy.http import TextResponse

from newscrawl.extract.body import BODY_END_MARK, BODY_START_MARK

FALLBACK_ENCODING = "gb18030"
# ``</html>`` or ``</body>`` in any case, looked for in the page's last 4096
# characters. ASCII case only, as ``str.lower()`` found it before (no other character
# lowers to these letters), without lowering 4 KB of text per page (~12 µs).
_DOCUMENT_END_RE = re.compile(r"</(?:[hH][tT][mM][lL]|[bB][oO][dD][yY])>")


def redecode(response: TextResponse) -> TextResponse:
    try:
        response.body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return response
    if response.encoding.lower().replace("-", "") == FALLBACK_ENCODING:
        return response
    try:
        response.body.decode(FALLBACK_ENCODING)
    except UnicodeDecodeError:
        return response
    return response.replace(encoding=FALLBACK_ENCODING)


def is_truncated(response: TextResponse) -> bool:
    """A page cut short in transfer (a Content-Length that matched a cut body):
    its body opens but never closes, or the document has no end at all."""
    text = response.text
    if BODY_START_MARK in text and BODY_END_MARK not in text:
        return True
    return _DOCUMENT_END_RE.search(text, max(0, len(text) - 4096)) is None


def is_misdecoded(response: TextResponse) -> bool:
    """Bytes that fit neither the declared charset nor the fallback."""
    try:
        response.body.decode(response.encoding)
    except (UnicodeDecodeError, LookupError):
        return True
    return False
