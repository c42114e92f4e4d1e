"""The spider's count of requests awaiting an answer, which decides whether a story
that got none hides below known ground: a refetch awaits one answer, however many
sections listed the story."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from newscrawl.spiders.ecns import EcnsSpider

URL = "https://www.ecns.cn/news/politics/2025-01-10/detail-iaaaaaaa0000001.shtml"


def test_a_story_listed_in_two_sections_refetched_once_is_answered_by_that_refetch() -> None:
    project = Settings()
    project.setmodule("newscrawl.settings")
    names = ("ECNS_BASE_URL", "ECNS_MAX_PAGES", "ECNS_MAX_LINKS_PER_LISTING", "RETRY_TIMES")
    crawler = get_crawler(
        EcnsSpider, {**{n: project[n] for n in names}, "NEWSCRAWL_REVISIT_HOURS": 48}
    )
    spider = EcnsSpider.from_crawler(crawler)
    spider.await_answer(URL, ("politics",))
    spider.await_answer(URL, ("cns-wire",))
    spider.answered(URL)  # the repeat, dropped by the scheduler
    sections = spider.answered(URL)  # the page, cut short
    cut = HtmlResponse(URL, body=b"<html><body><p>cut", request=Request(URL))
    refetch = spider.refetch(cut, sections)
    assert refetch is not None
    assert spider.answered(URL) == {"politics", "cns-wire"}  # the refetch's answer
    assert spider.unanswered == {}
