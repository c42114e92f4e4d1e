"""An offline replica of www.ecns.cn, served over real HTTP on 127.0.0.1.

Why it exists: the machines that build and test newscrawl cannot reach the
internet, and a crawler tested only against saved pages never meets the site's
navigation: listing pages that end in a 404, stories listed under several link
forms and in several sections, stories published twice, sidebars full of links
that are not the listing, pages without a time or an editor, link spam inside
and after the body, a hacked URL serving a gambling page, wire copies
re-published at another id with small edits (a lead added, a sentence or two
added or cut, punctuation, a new headline). The replica reproduces every
variation described in ``ECNS-SITE.md`` with synthetic text of our own, or with
the texts of a JSON Lines file (``--texts``: one story per text, in the format of
the real politics export), and writes beside it the ground truth
(``truth.jsonl``): for every story URL, what a correct crawler must deliver.

``build_site`` writes the site and the truth; ``ReplicaServer`` serves it from a
subprocess; ``python -m replica build|serve|dedup-check`` does both from
a shell, and checks the crawler's duplicate detection over two runs.
"""

from replica.build import build_site
from replica.server import ReplicaServer

__all__ = ["ReplicaServer", "build_site"]
