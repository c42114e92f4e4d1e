"""The normalizers behind the loader: whitespace, editor names, timestamps."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newscrawl.normalize import (
    SITE_TZ,
    normalize_parts,
    normalize_space,
    parse_editor,
    parse_site_datetime,
)

UNICODE_SPACES = " \t\n\r\u00a0\u2002\u2003\u2009\u3000\u202f"


@given(st.text(alphabet=st.sampled_from(list(UNICODE_SPACES) + list("ab 李\u200b"))))
def test_normalize_space_leaves_single_ascii_spaces_between_words(text: str) -> None:
    result = normalize_space(text)
    assert result == result.strip()
    assert "  " not in result
    assert not any(c in result for c in UNICODE_SPACES.replace(" ", "") + "\u200b")
    assert normalize_space(result) == result


@given(st.lists(st.text(alphabet="abcXYZ李", min_size=1), min_size=1, max_size=5))
def test_normalize_space_keeps_words_and_their_order(words: list[str]) -> None:
    padded = "\u00a0\n".join(f"  {w}\u3000" for w in words)
    assert normalize_space(padded) == " ".join(words)


@pytest.mark.parametrize(
    "raw",
    [
        "Editor  : Li Yan",
        "Editor : Li Yan",
        "Editor:Li Yan",
        "Editor：Li Yan",
        "Editor\u00a0: Li Yan",
        "Web Editor: Li Yan",
        "\n  Editor  :  Li  Yan \n",
        "editor: Li Yan",
    ],
)
def test_parse_editor_returns_the_name_only_for_every_known_spelling(raw: str) -> None:
    assert parse_editor(raw) == "Li Yan"


@pytest.mark.parametrize(
    "raw", ["", "Editor  : ", "ECNS App Download", "Editor: liyan@chinanews.com.cn", "Xinhua"]
)
def test_parse_editor_gives_none_when_no_name_is_printed(raw: str) -> None:
    assert parse_editor(raw) is None


names = st.from_regex(r"[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8}){0,2}", fullmatch=True)
labels = st.sampled_from(["Editor", "Web Editor", "EDITOR"])
colons = st.sampled_from([":", "：", " :", "  :", "\u00a0:"])
pads = st.sampled_from(["", " ", "  ", "\u00a0", "\n"])


@given(labels, colons, pads, names)
def test_parse_editor_recovers_any_name_after_any_label(
    label: str, colon: str, pad: str, name: str
) -> None:
    assert parse_editor(f"{pad}{label}{colon}{pad}{name}{pad}") == name


@given(st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2099, 12, 31)))
def test_parse_site_datetime_reads_printed_times_in_beijing_time(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    parsed = parse_site_datetime(moment.strftime("%Y-%m-%d %H:%M:%S"))
    assert parsed == moment.replace(tzinfo=SITE_TZ)
    assert parsed.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jan 9, 2025", "2025-01-09T00:00:00+08:00"),
        ("Sept 3, 2024", "2024-09-03T00:00:00+08:00"),
        ("Dec 31, 2024", "2024-12-31T00:00:00+08:00"),
        ("2025-01-10 16:52:22", "2025-01-10T16:52:22+08:00"),
        ("2025-1-5 9:05", "2025-01-05T09:05:00+08:00"),
    ],
)
def test_parse_site_datetime_gives_iso_8601_with_the_site_offset(raw: str, expected: str) -> None:
    parsed = parse_site_datetime(raw)
    assert parsed is not None
    assert parsed.isoformat() == expected


@pytest.mark.parametrize(
    "raw", ["", "2025-02-30 10:00:00", "2025-13-01 10:00:00", "Jan 2025", "16:52:22", "yesterday"]
)
def test_parse_site_datetime_never_completes_or_invents_a_date(raw: str) -> None:
    assert parse_site_datetime(raw) is None


@given(st.text())
def test_normalize_space_output_is_always_encodable_utf8_without_controls(text: str) -> None:
    result = normalize_space(text)
    result.encode("utf-8")  # raises on a lone surrogate
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in result)


def test_normalize_space_removes_control_characters_and_lone_surrogates() -> None:
    assert normalize_space("Tit\x00le\x07 \ud800here\x1b") == "Title here"


# Bidi controls, invisible format characters and Hangul fillers: they show nothing (or
# reorder what is shown, "\u202eexe.gnp" displays as "png.exe") and break equality.
INVISIBLE = [
    *"\u202a\u202b\u202c\u202d\u202e",  # embeddings and overrides
    *"\u2066\u2067\u2068\u2069",  # isolates
    *"\u200e\u200f\u061c",  # LRM, RLM, Arabic letter mark
    *"\u3164\u115f\u1160\uffa0",  # Hangul fillers
    *"\u2061\u2062\u2063\u2064\u180e",  # invisible operators, Mongolian vowel separator
    *"\u206a\u206f\ufff9\U000e0001",  # deprecated format characters, language tag
]


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_normalize_space_removes_bidi_controls_and_invisible_characters(char: str) -> None:
    assert normalize_space(f"Offi{char}cial {char}statement{char}") == "Official statement"


def test_a_right_to_left_override_cannot_disguise_a_title() -> None:
    assert normalize_space("\u202eOfficial statement\u202c gnp.exe") == "Official statement gnp.exe"
    assert normalize_space("\u3164\u202e\u2066 \u200f") == ""


# Format characters that belong to the text they mark: Arabic number signs, Kaithi and
# Egyptian hieroglyph controls, shorthand and musical formatting, emoji tag sequences
# (the flag of Scotland is U+1F3F4 followed by tag characters).
KEPT_FORMAT = {
    *range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD,
    *range(0x13430, 0x13440), *range(0x1BCA0, 0x1BCA4), *range(0x1D173, 0x1D17B),
    *range(0xE0020, 0xE0080),
}  # fmt: skip


def test_every_other_format_character_is_removed() -> None:
    import unicodedata

    format_chars = [c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    left = [
        f"U+{c:04X}"
        for c in format_chars
        if c not in KEPT_FORMAT and normalize_space(f"a{chr(c)}b") != "ab"
    ]
    assert left == []
    flag = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert normalize_space(flag) == flag


part_texts = st.lists(
    st.text(alphabet=st.sampled_from(list(UNICODE_SPACES) + list("ab李.\u200b\u202e")), max_size=6),
    max_size=8,
)


@given(part_texts, st.data())
def test_normalize_parts_places_each_run_of_parts_in_the_whole(
    parts: list[str], data: st.DataObject
) -> None:
    text, starts, ends = normalize_parts(parts)
    assert text == normalize_space("".join(parts))
    i = data.draw(st.integers(0, len(parts)))
    j = data.draw(st.integers(i, len(parts)))
    start = min(starts[i], ends[j])
    assert text[start : ends[j]] == normalize_space("".join(parts[i:j]))
