"""Scrapy settings for newscrawl. Every project setting is documented in README.md."""

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.spiders"]
NEWSPIDER_MODULE = "newscrawl.spiders"
# `scrapy crawl` replaced: exit codes a scheduler can act on, and the run lock.
COMMANDS_MODULE = "newscrawl.commands"

# --- newscrawl ---------------------------------------------------------------
# The site's origin. Point it at a replica with -s ECNS_BASE_URL=http://127.0.0.1:PORT
ECNS_BASE_URL = "https://www.ecns.cn"
# Listing pages per section at most (the live site keeps about 15).
ECNS_MAX_PAGES = 100
NEWSCRAWL_OUTPUT_DIR = "output"
# Default: a folder beside the output folder, "<output>-state".
NEWSCRAWL_STATE_DIR = None
# Put in the User-Agent (composed at crawl time by newscrawl.config.Identity unless
# USER_AGENT is set): name the operator, e.g. mailto:ops@example.org.
NEWSCRAWL_CONTACT = "https://github.com/newscrawl/newscrawl"
# One log file per run: "default" is <state dir>/logs; empty writes none.
NEWSCRAWL_LOG_DIR = "default"
NEWSCRAWL_LOG_KEEP_DAYS = 14
# Items per output file before the next file of the run starts (0: one file a run).
NEWSCRAWL_FILE_MAX_ITEMS = 10000
# Delivered stories published less than this many hours ago are fetched again now
# and then (ever less often as they age) and delivered again, version + 1, if
# their text changed: corrections. 0 turns revisits off.
NEWSCRAWL_REVISIT_HOURS = 48
# A story whose own page keeps failing (never downloads whole, never validates) is
# given up once it failed in complete runs over this many days (and in 3 runs at
# least); `scrapy giveup` lists the stories given up and takes them back.
NEWSCRAWL_GIVE_UP_DAYS = 7
# Files a killed run left unfinished are set aside as *.discarded, and removed by
# the first run this many days later.
NEWSCRAWL_DISCARDED_KEEP_DAYS = 7
# Story links one listing page may lead to (the site lists 20-30): a page listing
# more is hostile or broken; the rest are skipped, logged and counted.
ECNS_MAX_LINKS_PER_LISTING = 200
# Load each complete run into this store (sqlite:///path or postgresql://…), as
# `scrapy ingest` does; None: only the files. NEWSCRAWL_METRICS_FILE: a Prometheus
# textfile (*.prom in node_exporter's textfile folder) each run ends by writing.
NEWSCRAWL_STORE_URL = None
NEWSCRAWL_METRICS_FILE = None
# A soft run-time limit (seconds): the run stops gracefully, writes its files and
# manifest, and the next run carries on where it stopped.
CLOSESPIDER_TIMEOUT = 3300
# Seconds a stop (SIGTERM, one SIGINT, CLOSESPIDER_TIMEOUT) leaves the downloads in
# flight before it cancels them and drops the requests still waiting, whatever
# DOWNLOAD_TIMEOUT and Retry-After waits say: a stop ends within ~30 s, inside
# systemd's TimeoutStopSec (see newscrawl/stop.py).
NEWSCRAWL_STOP_GRACE = 20

# --- politeness on the live site (tests and the demo lower these) --------------
ROBOTSTXT_OBEY = True
ADDONS = {"newscrawl.config.Identity": 0}
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS_PER_DOMAIN = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Retry-After (429/503) and robots.txt Crawl-delay honoured, up to this many seconds.
NEWSCRAWL_MAX_RETRY_AFTER = 600
DOWNLOADER_MIDDLEWARES = {
    # robots.txt per RFC 9309: a 5xx or unreachable robots.txt disallows everything.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newscrawl.robots.RobotsTxtMiddleware": 100,
    "newscrawl.middlewares.PolitenessMiddleware": 560,
    # Last before the downloader: drops what a stop's grace left over.
    "newscrawl.stop.StopDeadlineMiddleware": 990,
}
# Scrapy's HTTP/1.1 handler whose downloads a stop can cancel, and whose size-limit
# failures say what happened (newscrawl/handlers.py).
DOWNLOAD_HANDLERS = {
    "http": "newscrawl.handlers.HttpDownloadHandler",
    "https": "newscrawl.handlers.HttpDownloadHandler",
}
# The largest real ECNS page is ~50 KB; Scrapy's defaults (1 GiB, warning at 32 MiB)
# let one hostile answer (a huge page, an endless chunked body) take gigabytes of
# memory. A response past 4 MiB, as sent or once decompressed (gzip bombs), is
# refused and its story retried by later runs; the replica's "huge" fault pads
# pages to 10 MB.
DOWNLOAD_MAXSIZE = 4 * 1024 * 1024
DOWNLOAD_WARNSIZE = 1024 * 1024

# --- pipelines, in the order documented in newscrawl/pipelines/__init__.py -----
ITEM_PIPELINES = {
    "newscrawl.pipelines.validation.ValidationPipeline": 100,
    "newscrawl.pipelines.spam.SpamPipeline": 200,
    "newscrawl.pipelines.duplicates.DuplicatesPipeline": 300,
    "newscrawl.pipelines.schema.SchemaPipeline": 800,
    "newscrawl.pipelines.output.JsonLinesOutputPipeline": 900,
}
# The output's JSON Schema, checked on every item before it is written by
# newscrawl's SchemaPipeline (fastjsonschema, jsonschema judging what it refuses;
# spidermon's pipeline cost ~180 µs an item); an item that does not fit is dropped
# (and its story retried by the next run). None: the schema the package ships
# (newscrawl/schemas/article.schema.json, read with importlib.resources, so that it is
# found inside the zipped egg scrapyd runs); a file path: that schema instead.
ARTICLE_SCHEMA = None
# Scrapy's default of 100 concurrent item tasks per response costs about a third of
# throughput for nothing here (scrapy #5182).
CONCURRENT_ITEMS = 16
# Request fingerprints on disk (SQLite, ≤ 1 MB cache) instead of a set that grows
# ~100 bytes a request for the whole run (scrapy #5307).
DUPEFILTER_CLASS = "newscrawl.dupefilter.DiskDupeFilter"

# `scrapy check ecns`: @story PATH checks a story on ECNS_BASE_URL (newscrawl/contracts.py).
SPIDER_CONTRACTS = {"newscrawl.contracts.StoryContract": 10}
LOG_FORMATTER = "newscrawl.logformatter.NewscrawlLogFormatter"
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's RemoteControl: an HTTP server on localhost that runs any Python code
# sent to it, with a token written under ~/.local/state/scrapy. A scheduled crawler
# has no use for it, and starting it is part of every run's start-up.
REMOTE_CONTROL_ENABLED = False
# What start-up allocated is frozen out of the garbage collector's walks once the
# spider opens (see newscrawl/extensions.py; NEWSCRAWL_GC_FREEZE = False: off).
EXTENSIONS = {
    "newscrawl.extensions.GcFreeze": 0,
    "newscrawl.run.Run": 0,
    "newscrawl.stop.StopDeadline": 0,
}
NEWSCRAWL_GC_FREEZE = True
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
