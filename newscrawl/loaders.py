"""The item loader: raw page strings in, normalized item fields out.

Extraction (``newscrawl.extract``) decides where a value is on the page; the
processors here decide what it becomes. ``load_article`` is the one place an
``ArticleItem`` is built from a ``RawArticle``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from itemloaders.processors import Compose, Identity, MapCompose, TakeFirst
from scrapy.loader import ItemLoader

from newscrawl.extract import RawArticle
from newscrawl.items import ArticleItem
from newscrawl.normalize import (
    none_if_empty,
    normalize_space,
    parse_editor,
    parse_site_datetime,
)
from newscrawl.urls import article_id, section_slug


class ArticleLoader(ItemLoader):
    """Normalizes each field with the processors declared below.

    Why the two overrides: itemloaders resolves a field's processor on every
    ``add_value`` and ``load_item`` (a ``getattr``, then for fields without a
    ``<field>_in``/``_out`` a new ``ItemAdapter`` to read the field's metadata),
    about a third of what a loader costs per article. The processors are fixed per
    class, so each is resolved once and kept.
    """

    default_item_class = ArticleItem
    default_output_processor = TakeFirst()
    _resolved: ClassVar[dict[tuple[type, str, str], Callable[..., Any]]] = {}

    def get_input_processor(self, field_name: str) -> Callable[..., Any]:
        key = (type(self), field_name, "in")
        proc = self._resolved.get(key)
        if proc is None:
            proc = self._resolved[key] = super().get_input_processor(field_name)
        return proc

    def get_output_processor(self, field_name: str) -> Callable[..., Any]:
        key = (type(self), field_name, "out")
        proc = self._resolved.get(key)
        if proc is None:
            proc = self._resolved[key] = super().get_output_processor(field_name)
        return proc

    title_in = MapCompose(normalize_space)  # TakeFirst then skips empty candidates
    # Items hold timestamps as the ISO 8601 strings they are exported as, so the
    # item validates against the JSON Schema as it is.
    published_in = MapCompose(parse_site_datetime)
    published_out = Compose(TakeFirst(), datetime.isoformat)
    crawled_at_out = Compose(TakeFirst(), datetime.isoformat)
    published_raw_in = MapCompose(normalize_space)
    source_in = MapCompose(none_if_empty)
    editor_in = MapCompose(parse_editor)
    body_blocks_out = Identity()


def load_article(
    raw: RawArticle, *, url: str, listing_date: str | None, crawled_at: datetime | None = None
) -> ArticleItem:
    """Build the item for the article at canonical ``url``.

    The time comes from the page; when the page prints none, from the listing
    date that led to it (midnight in the site's zone), and without a listing
    (a story reached another way) from the ``publish at`` comment in the
    page's head. A printed time that is
    not a possible date stays unparsed (``published`` missing,
    ``published_raw`` kept) so validation drops it instead of guessing.
    """
    loader = ArticleLoader()
    loader.add_value("url", url)
    loader.add_value("article_id", article_id(url))
    loader.add_value("section", section_slug(url))
    loader.add_value("title", list(raw.titles))
    published_raw = raw.time_raw or listing_date or raw.publish_comment_raw
    loader.add_value("published_raw", published_raw)
    loader.add_value("published", published_raw)
    loader.add_value("source", raw.source_raw)
    loader.add_value("editor", raw.editor_raw)
    loader.add_value("body_blocks", list(raw.blocks))
    loader.add_value("crawled_at", crawled_at or datetime.now(UTC))
    item = loader.load_item()
    # Fields the site leaves empty are exported as null, not left out, so every
    # line has the same keys.
    for field in ("source", "editor"):
        item.setdefault(field, None)
    return item
