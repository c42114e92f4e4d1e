"""Extraction: pure functions from a page's selector to raw fields.

Nothing here fetches, normalizes dates or decides what to keep: the spider
navigates, the loader (``newscrawl.loaders``) normalizes, the pipelines decide.
"""

from newscrawl.extract.article import RawArticle, extract_article
from newscrawl.extract.listing import ListingEntry, extract_feed, extract_listing

__all__ = ["ListingEntry", "RawArticle", "extract_article", "extract_feed", "extract_listing"]
