"""newscrawl: a scheduled, incremental Scrapy crawler for www.ecns.cn."""
