"""Benchmarks of newscrawl (issue 6): ``python -m bench``, see ``bench/__main__.py``."""
