"""Flood bands: the MinHash of a text's words and word pairs, as the module defines it."""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service import flood
from training.features import fold
from training.normalize import strip_bbcode, strip_html


def reference_bands(text: str) -> list[int] | None:
    """The definition, written plainly: each word's digit runs collapsed, the set of words
    and "a b" pairs, CRC32 of each, multiply-shift minima, each band's rows CRC32'd."""
    flat = fold(strip_bbcode(strip_html(text))).lower()
    words = [re.sub(r"\d+", "0", word) for word in re.findall(r"\w+", flat)]
    if len(words) < flood.MIN_TOKENS:
        return None
    features = {*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))}
    minima = [
        min((((zlib.crc32(f.encode()) * int(a)) % 2**64 + int(b)) % 2**64) >> 32 for f in features)
        for a, b in zip(flood._A, flood._B, strict=True)
    ]
    rows = np.asarray(minima, dtype=np.uint32).reshape(flood.BANDS, -1)
    return [zlib.crc32(row.tobytes()) for row in rows]


TEXTS = [
    "Thanks!",
    "Buy 100 pills now at 50% off, call 555-0142 today, 24/7 support",
    "Great post about <b>gardening</b>, [url=http://x.example]my site[/url] has more 2024 tips",
    "ｆｕｌｌ ｗｉｄｔｈ text with ٣٤ Arabic-Indic digits and ４５ wide ones too",
    "the the the the the the the the",
]


@pytest.mark.parametrize("text", TEXTS)
def test_bands_follow_the_definition(text: str) -> None:
    assert flood.band_keys(text) == reference_bands(text)


WORDS = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(WORDS, max_size=40), st.sampled_from([" ", "  ", "\n", ", "]))
def test_bands_follow_the_definition_on_any_text(words: list[str], separator: str) -> None:
    text = separator.join(words)
    assert flood.band_keys(text) == reference_bands(text)


@pytest.mark.parametrize("text", TEXTS)
def test_the_flattened_text_given_by_the_caller_gives_the_same_bands(text: str) -> None:
    assert flood.band_keys(text, flat=flood.flat_text(text)) == flood.band_keys(text)
