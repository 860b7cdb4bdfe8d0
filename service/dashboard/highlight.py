"""Mark, in a comment's text, the words and links that weighed most in its verdict.

Reasons name model features (``words__casino``, ``words__best price``,
``meta__link_domain=x.shop``, ``meta__link_tld=shop``, ``words__xtldshop``); this module
finds those words and links in the original text and wraps them in ``<mark>``, with the
reason's label and weight as a tooltip. Features are matched case-insensitively on word
boundaries; what the model saw after normalisation (folded accents, look-alike letters) may
occasionally not be found, in which case the reason is still listed beside the comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from training.features import feature_label
from training.normalize import URL_TOKEN

URL_PATTERN = re.compile(r"(?:https?://|www\.)[^\s<>\"'\]\[)]+", re.IGNORECASE)
MAX_TERMS = 12


@dataclass(frozen=True, slots=True)
class Mark:
    """One thing to mark: ``words`` or a link rule, pushing ``towards`` spam or ham."""

    label: str
    weight: float
    words: str | None = None  # "best price"
    host: str | None = None  # links to this domain (or a subdomain of it)
    tld: str | None = None  # links to a domain under this TLD
    any_link: bool = False

    @property
    def towards(self) -> str:
        return "spam" if self.weight > 0 else "ham"


def _reason_parts(reason: Mapping[str, Any] | Any) -> tuple[str, str, float]:
    if isinstance(reason, Mapping):
        return (
            str(reason.get("feature", "")),
            str(reason.get("label", "")),
            float(reason.get("weight", 0.0)),
        )
    return str(reason.feature), str(reason.label), float(reason.weight)


def marks_from_reasons(reasons: Iterable[Mapping[str, Any] | Any]) -> list[Mark]:
    """The reasons that point at something visible in the text, strongest first."""
    marks: list[Mark] = []
    for reason in reasons:
        feature, label, weight = _reason_parts(reason)
        if label.startswith("absent:") or abs(weight) < 0.05:
            continue
        branch, _, name = feature.partition("__")
        if branch == "words":
            kind, _ = feature_label(feature)
            if kind == "link":
                marks.append(Mark(label, weight, tld=name[4:]))
            elif kind == "word":
                marks.append(Mark(label, weight, words=name))
            elif name.strip() == URL_TOKEN.strip():
                marks.append(Mark(label, weight, any_link=True))
        elif branch == "meta":
            prefix, _, value = name.partition("=")
            if prefix == "link_domain" and value:
                marks.append(Mark(label, weight, host=value.lower()))
            elif prefix == "link_tld" and value:
                marks.append(Mark(label, weight, tld=value.lower()))
            elif prefix in ("has_link", "link_count", "link_domains", "link_shortener"):
                marks.append(Mark(label, weight, any_link=True))
    marks.sort(key=lambda m: abs(m.weight), reverse=True)
    return marks[:MAX_TERMS]


def _host(url: str) -> str:
    target = url if "://" in url else f"http://{url}"
    try:
        return (urlsplit(target).hostname or "").lower()
    except ValueError:
        return ""


def _link_mark(url: str, marks: list[Mark]) -> Mark | None:
    host = _host(url)
    for mark in marks:
        if mark.host and (host == mark.host or host.endswith("." + mark.host)):
            return mark
        if mark.tld and host.endswith("." + mark.tld):
            return mark
        if mark.any_link:
            return mark
    return None


def _word_pattern(words: str) -> str:
    parts = [re.escape(p) for p in words.split()]
    return r"(?<![^\W_])" + r"[\s\W_]+".join(parts) + r"(?![^\W_])"


def _wrap(text: str, mark: Mark) -> Markup:
    title = f"{mark.label} ({mark.weight:+.2f} towards {mark.towards})"
    return Markup('<mark class="hl hl-{}" title="{}">{}</mark>').format(mark.towards, title, text)


def highlight(text: str | None, reasons: Iterable[Mapping[str, Any] | Any]) -> Markup:
    """``text`` as safe HTML with the words and links behind ``reasons`` marked.

    The comment is attacker-written: its pieces go through ``Markup.format`` and
    ``Markup.join``, which escape everything that is not the ``<mark>`` tags themselves."""
    if not text:
        return Markup("")
    marks = marks_from_reasons(reasons)
    link_marks = [m for m in marks if m.host or m.tld or m.any_link]
    word_marks = [(m, m.words) for m in marks if m.words]
    spans: list[tuple[int, int, Mark]] = []
    for match in URL_PATTERN.finditer(text):
        mark = _link_mark(match.group(0), link_marks)
        if mark is not None:
            spans.append((match.start(), match.end(), mark))
    for mark, words in word_marks:
        for match in re.finditer(_word_pattern(words), text, re.IGNORECASE):
            spans.append((match.start(), match.end(), mark))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[str | Markup] = []
    position = 0
    for start, end, mark in spans:
        if start < position:
            continue  # overlaps a longer or earlier mark
        out.append(text[position:start])
        out.append(_wrap(text[start:end], mark))
        position = end
    out.append(text[position:])
    return Markup("").join(out)
