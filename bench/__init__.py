"""Benchmarks of newscrawl: ``python -m bench``, see ``bench/__main__.py``."""
