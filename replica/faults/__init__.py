"""A replica that misbehaves on purpose, and the fault suite that measures how the
crawler survives it.

The crawler's promise: every story delivered exactly once (read from the files
named by manifests whose status is ``complete``), and a failure is a non-zero exit
code (README, "Exit codes"), never a green run with missing stories. The suite
puts the crawler against a server that breaks that promise's every assumption and
measures what a consumer gets.

- ``server``: ``FaultServer``, the replica served on 127.0.0.1 from a thread,
  misbehaving as its ``Faults`` (``Rule`` per path) say;
- ``pages``: the pages it serves instead of the replica's, or made from them;
- ``launcher``: a crawl in a subprocess under local faults, its memory and time
  watched, signals sent to it;
- ``output``: what a consumer reads, and what is wrong with it;
- ``model``: what a case is made of (``Case``, its runs ``Step``, the ``Context``
  its builder and checks see) and the checks cases share;
- ``cases``: the cases, one builder each;
- ``report``: ``measure`` (a case's runs, counted against the replica's truth)
  and the table ``python -m replica.faults`` prints.

What "right" means, per case:

- every story the case expects is delivered exactly once (twice after a reset)
  by the end of the case, whose last run is a clean one (the server without
  faults), damaged in no field, and nothing that is not a story of the site;
- each run ends with the exit code the case names for it, with a clear message
  when it fails, and never marks a story delivered that no complete manifest holds;
- no run prints the traceback of an unhandled exception, outlives its time or
  grows past its memory bound;
- every output line is valid UTF-8 JSON, one object a line, whose strings hold
  no control character but ``\\n``, no lone surrogate, no bidi control or invisible
  character, no markup that runs (``<script``, ``<iframe``, ``<img`` …), nothing of a
  ``<script>`` element's code; no file is created outside the output and state folders;
- what the case's own check adds (a story delivered in its first run, a page not
  read, a reason in the log, a run that stops in time).
"""

from replica.faults.cases import CASES, CASES_BY_NAME
from replica.faults.launcher import RunResult, run_crawl
from replica.faults.model import Case, Context, Step
from replica.faults.report import Measurements, Row, format_table, measure, run_suite
from replica.faults.server import Faults, FaultServer, Hit, Rule

__all__ = [
    "CASES",
    "CASES_BY_NAME",
    "Case",
    "Context",
    "FaultServer",
    "Faults",
    "Hit",
    "Measurements",
    "Row",
    "Rule",
    "RunResult",
    "Step",
    "format_table",
    "measure",
    "run_crawl",
    "run_suite",
]
