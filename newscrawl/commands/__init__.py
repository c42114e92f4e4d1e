"""Project commands (``COMMANDS_MODULE``): ``crawl`` replaced so that a scheduled
``scrapy crawl ecns`` exits non-zero when its run failed."""
