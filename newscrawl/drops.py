"""Why an item was dropped: one DropItem subclass per reason.

Scrapy counts dropped items in the stats by exception class name
(``item_dropped_reasons_count/<ClassName>``), so each reason is its own class.
``outcome`` is what the state records for the story, so that the next run knows
whether to fetch it again (see ``newscrawl.state.FINAL_OUTCOMES``).
"""

from __future__ import annotations

from scrapy.exceptions import DropItem

from newscrawl import state


class ArticleDrop(DropItem):
    outcome: str | None = state.INVALID
    # INFO: a healthy run drops a few pages every time (a video page with no body, a
    # copy, a hacked URL's spam page); each is logged with its URL and reason and
    # counted, and the verdict fails the run when drops are more than a few.
    log_level = "INFO"

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level=self.log_level)


class MissingTitle(ArticleDrop):
    pass


class MissingBody(ArticleDrop):
    pass


class MissingPublished(ArticleDrop):
    pass


class ImpossibleDate(ArticleDrop):
    pass


class ImplausibleTitle(ArticleDrop):
    """A "headline" no editor wrote: thousands of characters long."""


class ImplausibleBody(ArticleDrop):
    """A "body" no editor wrote: over a million characters long."""


class NotWritten(ArticleDrop):
    """The output or the state could not take the item (disk full, database
    error): the story is not recorded, so the next run delivers it."""

    outcome = None
    log_level = "DEBUG"  # the cause is logged once, not once an item


class SpamPage(ArticleDrop):
    outcome = state.SPAM_PAGE


class Duplicate(ArticleDrop):
    """A copy of a story delivered earlier or already in this run."""

    outcome = state.DUPLICATE
    log_level = "INFO"


class DuplicateUrl(Duplicate):
    pass


class DuplicateId(Duplicate):
    pass


class DuplicateContent(Duplicate):
    pass


class DuplicateNear(Duplicate):
    """A near copy: the body of a known story with small edits."""


DUPLICATE_BY_KIND: dict[str, type[Duplicate]] = {
    "url": DuplicateUrl,
    "id": DuplicateId,
    "content": DuplicateContent,
    "near": DuplicateNear,
}


class Unchanged(ArticleDrop):
    """A revisit found the delivered story's text as it was: nothing to deliver
    again. The state keeps the story delivered."""

    outcome = None
    log_level = "DEBUG"
