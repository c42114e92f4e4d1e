"""Whether CSS hides an element: inline styles and the simple rules of a page's
``<style>``.

Hacked pages hide injected links as often with a class their ``<style>`` hides as
with an inline style. The extraction folds the declarations that apply to an element
into ``Block.style`` (``style_from_rules``), and the spam detector reads a block's
style with ``is_hidden_style``: both use this module, neither owns it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Hidden styles: offsets this far off-screen hide text; real layouts nudge by a few px/em.
OFFSCREEN_MIN_PX = 500.0
# The same in em/rem (500px at the usual 16px font size is about 30em).
OFFSCREEN_MIN_EM = 30.0
# A box this small (px) with ``overflow:hidden`` shows nothing: the "1px by 1px" trick.
HIDDEN_MAX_BOX_PX = 1.0
# A ``clip:rect(…)`` whose every edge is within this many px clips the box away.
HIDDEN_MAX_CLIP_PX = 1.0
# Text this small (px) cannot be read; real pages never set body text below 8px.
HIDDEN_MAX_FONT_PX = 1.0


# Styles that hide a block.
_DISPLAY_NONE_RE = re.compile(r"(?:^|[;\s])display\s*:\s*none\b", re.IGNORECASE)
_VISIBILITY_RE = re.compile(r"(?:^|[;\s])visibility\s*:\s*(\w+)", re.IGNORECASE)
_FONT_SIZE_RE = re.compile(r"(?:^|[;\s])font-size\s*:\s*([0-9.]+)\s*(px)?", re.IGNORECASE)
_BOX_RE = re.compile(
    r"(?:^|[;\s])(?:max-)?(?:height|width)\s*:\s*([0-9.]+)\s*(px)?(?![0-9.])", re.IGNORECASE
)
_CLIP_RECT_RE = re.compile(r"(?:^|[;\s])clip\s*:\s*rect\(([^)]*)\)", re.IGNORECASE)
_CLIP_PATH_RE = re.compile(
    r"(?:^|[;\s])clip-path\s*:\s*(?:inset\(\s*50%|circle\(\s*0(?:px)?\s*[)a])", re.IGNORECASE
)
_NUMBER_RE = re.compile(r"-?[0-9.]+")
# CSS: comments, rules (the innermost braces, so rules inside @media are read too), and
# the simple selectors hiding_rules understands: a class or an id, after a tag or not.
_CSS_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_RULE_RE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR_RE = re.compile(r"(?:[a-z][a-z0-9]*)?([.#][a-z_-][\w-]*)", re.IGNORECASE)
_OVERFLOW_HIDDEN_RE = re.compile(r"(?:^|[;\s])overflow(?:-[xy])?\s*:\s*hidden\b", re.IGNORECASE)
_OPACITY_ZERO_RE = re.compile(r"(?:^|[;\s])opacity\s*:\s*0(?:\.0*)?(?![0-9.])", re.IGNORECASE)
_OFFSET_RE = re.compile(
    r"(?:^|[;\s])(?:left|top|right|text-indent|margin-left|margin-top)\s*:\s*-\s*([0-9.]+)\s*(px|em|rem)?",
    re.IGNORECASE,
)


def is_hidden_style(style: str) -> bool:
    """Whether inline styles (outermost first, ``;``-joined) hide the element:
    ``display:none``, ``visibility:hidden``, ``font-size:0``, ``opacity:0``, a zero
    (or 1px) height or width with ``overflow:hidden``, a ``clip`` to nothing, or a
    large negative offset."""
    if _DISPLAY_NONE_RE.search(style) or _OPACITY_ZERO_RE.search(style):
        return True
    # An inner element can undo visibility and font size: the last declaration wins.
    visibility = _VISIBILITY_RE.findall(style)
    if visibility and visibility[-1].lower() in ("hidden", "collapse"):
        return True
    sizes = _FONT_SIZE_RE.findall(style)
    if sizes:
        size, unit = _as_float(sizes[-1][0]), sizes[-1][1]
        if size == 0.0 or (unit and size is not None and size <= HIDDEN_MAX_FONT_PX):
            return True
    if _OVERFLOW_HIDDEN_RE.search(style) and _has_tiny_box(style):
        return True
    if _CLIP_PATH_RE.search(style):
        return True
    for edges in _CLIP_RECT_RE.findall(style):
        values = [_as_float(v) for v in _NUMBER_RE.findall(edges)]
        if len(values) == 4 and all(v is not None and abs(v) <= HIDDEN_MAX_CLIP_PX for v in values):
            return True
    for number, unit in _OFFSET_RE.findall(style):
        value = _as_float(number)
        limit = OFFSCREEN_MIN_PX if unit.lower() in ("", "px") else OFFSCREEN_MIN_EM
        if value is not None and value >= limit:
            return True
    return False


def hiding_rules(css: str) -> dict[str, str]:
    """The declarations of the page's CSS rules that hide an element, by simple selector:
    ``.name`` for a class (``div.name`` too, for any tag: a spam class is not reused
    for visible text), ``#name`` for an id.

    Why: hacked pages hide injected links with a class their ``<style>`` hides as often
    as with an inline style. The extraction folds these declarations into
    ``Block.style`` (see :func:`style_from_rules`), and :func:`is_hidden_style` reads
    them as it reads inline styles. Rules under other selectors (descendants, pseudo-
    classes, attributes) are left out: reading them right needs a CSS engine, and a
    wrong guess would hide real text.
    """
    rules: dict[str, str] = {}
    for selectors, declarations in _CSS_RULE_RE.findall(_CSS_COMMENT_RE.sub(" ", css)):
        declarations = " ".join(declarations.split())
        if not is_hidden_style(declarations):
            continue
        for selector in selectors.split(","):
            m = _SIMPLE_SELECTOR_RE.fullmatch(selector.strip())
            if m:
                key = m.group(1)
                rules[key] = f"{rules[key]};{declarations}" if key in rules else declarations
    return rules


def style_from_rules(rules: Mapping[str, str], classes: str | None, element_id: str | None) -> str:
    """The hiding declarations ``rules`` (from :func:`hiding_rules`) give an element with
    this ``class`` attribute and ``id``, ``;``-joined; "" when none. Put them before the
    element's inline style, which comes later in the cascade and can undo them."""
    if not rules:
        return ""
    found = [rules[f".{c}"] for c in (classes or "").split() if f".{c}" in rules]
    if element_id and f"#{element_id.strip()}" in rules:
        found.append(rules[f"#{element_id.strip()}"])
    return ";".join(found)


def _has_tiny_box(style: str) -> bool:
    """A height or width of 0, or of at most HIDDEN_MAX_BOX_PX pixels."""
    for number, unit in _BOX_RE.findall(style):
        value = _as_float(number)
        if value is not None and (value == 0.0 or (unit and value <= HIDDEN_MAX_BOX_PX)):
            return True
    return False


def _as_float(number: str) -> float | None:
    try:
        return float(number)
    except ValueError:
        return None
