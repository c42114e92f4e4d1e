"""Spiders: navigation only. They decide what to fetch next and hand each page to
``newscrawl.extract``; normalizing and deciding happen in loaders and pipelines."""
