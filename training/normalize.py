"""Undo the tricks spam uses to slip past word filters, before any feature sees the text.

Spammers write ``v i a g r a``, ``vіagra`` (Cyrillic і), ``v\u200biagra`` or ``c4s1n0``; a bag of
words sees four unrelated tokens. Normalising first lets one learned weight cover all of them.
URLs, e-mail addresses and phone numbers are replaced by placeholders so the model learns "has
a phone number" rather than one particular number.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import numpy as np

URL_TOKEN = " xurlx "  # nosec B105 # a placeholder word the model sees, not a secret
EMAIL_TOKEN = " xemailx "  # nosec B105 # a placeholder word the model sees, not a secret
PHONE_TOKEN = " xphonex "  # nosec B105 # a placeholder word the model sees, not a secret

# Characters that render as nothing (or as a space) but split words for a tokeniser.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068"
        "\u2069\u206a\u206b\u206c\u206d\u206e\u206f\u3164\ufeff\uffa0",
    )
)

# Look-alikes from other scripts that spam mixes into Latin words (Unicode confusables, the
# subset seen in comment spam). Applied only inside words that also contain Latin letters, so
# genuine Russian or Greek text is left alone.
_CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ɡ": "g",
        "ɑ": "a",
        "ο": "o",
        "α": "a",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "ι": "i",
        "κ": "k",
        "χ": "x",
        "υ": "u",
        "ε": "e",
        "ϲ": "c",
        "ӏ": "l",
        "ɩ": "i",
        "ı": "i",
        "ȷ": "j",
        "ᴠ": "v",
        "ᴡ": "w",
        "ᴢ": "z",
    }
)
_CONFUSABLE_CHARS = frozenset("авеёкмнорстухѕіїјԁԛԝɡɑοανρτικχυεϲӏɩıȷᴠᴡᴢ")
_CONFUSABLE_CLASS = "".join(sorted(_CONFUSABLE_CHARS))
_CONFUSABLE_RE = re.compile(f"[{_CONFUSABLE_CLASS}]")  # faster scan
# A whole space-delimited word containing a look-alike; the word's characters before the first
# look-alike cannot be one, so each word is scanned once (linear time).
_CONFUSABLE_SPACED_WORD = re.compile(f"(?<![^ ])[^ {_CONFUSABLE_CLASS}]*[{_CONFUSABLE_CLASS}][^ ]*")
# The same for a run of letters and digits (``[^\W_]+``).
CONFUSABLE_WORD = re.compile(
    f"(?<![^\\W_])[^\\W_{_CONFUSABLE_CLASS}]*[{_CONFUSABLE_CLASS}][^\\W_]*"
)

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
# Letter, digits (or @ $), letter: what every leetspeak word has. Written to start at the digit
# (rare) rather than at the letter before it (everywhere), which the regex engine skips to.
_LEET_HINT = re.compile(r"[0-9@$](?<=[a-z][0-9@$])[0-9@$]*[a-z]")
# A whole word (a run of [\w@$] bounded on both sides) made only of [a-z0-9@$] and containing
# a letter-digits-letter interior: the only words leetspeak folding changes. The look-ahead
# checks the whole run possessively first, so a long run costs linear time, not quadratic.
_LEET_WORD = re.compile(
    r"(?<![\w@$])(?=[a-z0-9@$]*+(?![\w@$]))[a-z0-9@$]*?[a-z][0-9@$]+[a-z][a-z0-9@$]*+"
)

_TLDS = (
    r"(?:com|net|org|info|biz|shop|store|online|site|xyz|top|club|ru|"
    r"io|co|us|uk|de|fr|es|it|nl|pl|in|cn|me|ly|gl|to|link|click|live|pro|vip|win|bet|casino|"
    r"app|dev|tk|ml|ga|cf|gq|cc|ws|su)"
)
_URL = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[^\s<>\"'\]\[)]+"
    r"|\b[a-z0-9][a-z0-9-]{1,62}\." + _TLDS + r"(?:/[^\s<>\"']*)?\b",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Seven or more digits, optionally grouped by spaces, dots, dashes or brackets, optionally "+".
_PHONE = re.compile(r"(?<!\w)\+?\(?\d(?:[\s().\-]{0,2}\d){6,14}(?!\w)")
# Four or more single letters separated by one space, dot, dash, underscore or star: "f r e e".
_SPACED = re.compile(r"(?<!\w)(?:[^\W\d_][ .\-_*]){3,}[^\W\d_](?!\w)")
_NUMPY_SCAN_FROM = 400  # characters from which numpy finds a run of equal ones faster
_SPACE_RUN = re.compile(r"\s+")
_REPEAT_RUN = re.compile(r"(.)\1{3,}")

# Cheap necessary conditions, checked before the slower substitutions above: text without a
# match for the hint cannot contain a match for the full pattern, so skipping is exact.
# Every URL has "://", "www." or a letter, digit or dash, a dot and one of the TLDs ending at a
# word boundary (a path starts with "/"), with the same flags as _URL. Written to start at the
# ":" or ".", which lets the regex engine skip ahead to those characters.
_URL_HINT = re.compile(
    r"[.:](?:(?<=[a-z0-9-]\.)" + _TLDS + r"\b|(?<=www\.)|(?<=:)(?=//))", re.IGNORECASE
)
_AT = re.compile("@")
_INVISIBLE_SET = frozenset(map(chr, _INVISIBLE))
# Spaced-out letters contain separator, letter, separator, letter, separator ("f r e e").
_SPACED_HINT = re.compile(r"[ .\-_*][^\W\d_][ .\-_*][^\W\d_][ .\-_*]")
# Every phone number has seven digits, each at most two separators from the previous one.
_PHONE_HINT = re.compile(r"\d(?:[\s().\-]{0,2}\d){6}")
# The characters a phone number is made of, and a run of them.
_PHONE_CHAR = re.compile(r"[\d\s().\-+]")
_PHONE_RUN = re.compile(r"[\d\s().\-+]*")


class _TextAndLinks(HTMLParser):
    """Collects visible text plus the targets and alt texts that HTML hides from a reader."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if (value and name in ("href", "src")) or (value and name in ("alt", "title")):
                self.parts.append(f" {value} ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(text: str) -> str:
    """Visible text, link targets and alt texts of an HTML fragment; entities decoded."""
    if "<" not in text:
        return html.unescape(text) if "&" in text else text
    parser = _TextAndLinks()
    parser.feed(text)
    parser.close()
    return html.unescape("".join(parser.parts))


def strip_bbcode(text: str) -> str:
    """BBCode anchors (``[url=...]anchor[/url]``) become ``target anchor``."""
    if "[" not in text:
        return text
    text = re.sub(r"\[url=([^\]]+)\]", r" \1 ", text, flags=re.IGNORECASE)
    return re.sub(r"\[/?[a-z]+(?:=[^\]]*)?\]", " ", text, flags=re.IGNORECASE)


def _fold_confusable_word(match: re.Match[str]) -> str:
    return _fold_confusables(match.group(0))


def _fold_confusables(word: str) -> str:
    if _CONFUSABLE_CHARS.isdisjoint(word):
        return word
    if not any("a" <= ch <= "z" for ch in word):
        return word  # a genuine Cyrillic or Greek word
    return word.translate(_CONFUSABLES)


def _fold_leet(match: re.Match[str]) -> str:
    word = match.group(0)
    if "@" in word and match.string[match.end() : match.end() + 1] == ".":
        return word  # an e-mail address, not "@" standing for "a"
    return word.translate(_LEET)


# The last text has_spaced_letters looked at and its answer. prepare() asks about the folded
# text and then about the raw text lower-cased, which are the same string for most comments
# (no markup, already NFKC); the second answer then costs one string comparison.
_last_spaced: tuple[str, bool] = ("", False)


def has_spaced_letters(text: str) -> bool:
    """``_SPACED.search(text) is not None`` (letters spelled out one by one: "f r e e")."""
    global _last_spaced
    last_text, last_answer = _last_spaced  # one tuple: consistent even across threads
    if text == last_text:
        return last_answer
    answer = _SPACED_HINT.search(text) is not None and _SPACED.search(text) is not None
    _last_spaced = (text, answer)
    return answer


def _join_spaced(match: re.Match[str]) -> str:
    return re.sub(r"[ .\-_*]", "", match.group(0))


def fold(text: str) -> str:
    """Unicode-fold text: NFKC, invisible characters removed, look-alikes and leetspeak undone.

    Lower-cases. Idempotent: ``fold(fold(x)) == fold(x)``.
    """
    text = unicodedata.normalize("NFKC", text)
    ascii_only = text.isascii()  # invisible characters and look-alikes are all outside ASCII
    if not ascii_only:
        distinct = "".join(set(text))  # set look-ups on these instead of scans of the text
        if not _INVISIBLE_SET.isdisjoint(distinct):
            text = text.translate(_INVISIBLE)
    text = text.lower()
    # Lower-casing maps each character on its own (only sigma looks at its neighbours, and
    # neither sigma is a look-alike), and the invisible characters removed are no look-alikes:
    # the lowered text has a look-alike only if the lowered distinct characters have one.
    if not ascii_only and not _CONFUSABLE_CHARS.isdisjoint(distinct.lower()):
        # = " ".join(_fold_confusables(word) for word in text.split(" ")), words without a
        # look-alike being left as they are.
        text = _CONFUSABLE_SPACED_WORD.sub(_fold_confusable_word, text)
    if has_spaced_letters(text):
        text = _SPACED.sub(_join_spaced, text)
    # Only around letter-digits-letter stretches; a leetspeak word never spans whitespace, and
    # _fold_leet looks one character past the word, which is a space at a stretch's end either way.
    text = _sub_near(_LEET_WORD, _fold_leet, text, _LEET_HINT)
    return " ".join(text.split())  # = _SPACE_RUN.sub(" ", text).strip(), faster


def _near_hints(text: str, hint: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each stretch of ``text`` between spaces that contains a match of
    ``hint``, in order.

    A pattern whose every match contains a match of ``hint`` and never contains or looks past
    whitespace (``_URL``, ``_EMAIL``) finds the same matches in these stretches as in the
    whole text: a stretch starts and ends next to a space or at an end of the text, which
    word boundaries treat alike. Long comments have a link or two among thousands of
    characters, and scanning for the hint is several times cheaper than for the pattern.
    """
    done = 0
    while (hit := hint.search(text, done)) is not None:
        start = text.rfind(" ", done, hit.start()) + 1 or done
        end = text.find(" ", hit.end())
        if end < 0:
            end = len(text)
        yield start, end
        done = end


def _sub_near(
    pattern: re.Pattern[str],
    repl: Callable[[re.Match[str]], str] | str,
    text: str,
    hint: re.Pattern[str],
) -> str:
    """``pattern.sub(repl, text)``, the pattern run only where ``_near_hints`` says it can match."""
    pieces: list[str] = []
    done = 0
    for start, end in _near_hints(text, hint):
        pieces += (text[done:start], pattern.sub(repl, text[start:end]))
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def find_urls(text: str) -> list[str]:
    """URLs in already-folded text, in order."""
    return [
        m.group(0).rstrip(".,;:!?")
        for start, end in _near_hints(text, _URL_HINT)
        for m in _URL.finditer(text, start, end)
    ]


@functools.lru_cache(maxsize=1024)  # spam repeats its links; each is parsed twice per comment
def url_host(url: str) -> str:
    """Host of a URL written with or without a scheme, without ``www.``; ``""`` if none."""
    if "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def normalize_text(text: str) -> str:
    """The text every word and character feature is computed from.

    HTML and BBCode are flattened (link targets kept), everything is folded, and URLs,
    e-mail addresses and phone numbers become placeholders followed by the link's domain
    words, so "has a link to a .shop domain" is learnable without memorising one URL.
    """
    return normalize_flat(flatten(text))


def flatten(text: str) -> str:
    """HTML and BBCode flattened (link targets kept), then folded: the first half of
    ``normalize_text``, which link signals also need."""
    return fold(strip_bbcode(strip_html(text)))


def normalize_flat(text: str) -> str:
    """``normalize_text`` of text that ``flatten`` already produced."""
    return normalize_flat_urls(text)[0]


def has_repeat_run(text: str) -> bool:
    """``_REPEAT_RUN.search(text) is not None``: four equal characters in a row, newlines apart.

    From a few hundred characters on, comparing code points in numpy is faster than the pattern.
    """
    if len(text) < _NUMPY_SCAN_FROM:
        return _REPEAT_RUN.search(text) is not None
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    same = codes[1:] == codes[:-1]
    four = same[:-2] & same[1:-1] & same[2:]
    return bool((four & (codes[:-3] != ord("\n"))).any())


def shorten_runs(text: str) -> str:
    """``_REPEAT_RUN.sub(r"\\1\\1\\1", text)``: every run of four or more equal characters
    (newlines apart) cut to three, the runs found in numpy for long texts."""
    if len(text) < _NUMPY_SCAN_FROM:
        return _REPEAT_RUN.sub(r"\1\1\1", text)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    starts = np.concatenate(([0], np.flatnonzero(codes[1:] != codes[:-1]) + 1))
    lengths = np.diff(np.append(starts, codes.size))
    long_runs = (lengths >= 4) & (codes[starts] != ord("\n"))
    if not long_runs.any():
        return text
    pieces: list[str] = []
    done = 0
    for start, length in zip(starts[long_runs].tolist(), lengths[long_runs].tolist(), strict=True):
        pieces += (text[done:start], text[start] * 3)
        done = start + length
    pieces.append(text[done:])
    return "".join(pieces)


def _sub_phones(text: str) -> str:
    """``_PHONE.sub(PHONE_TOKEN, text)``, the pattern run only on the stretches of phone-number
    characters (digits, whitespace, ``+().-``) that hold a match of the hint.

    A number is made of those characters only, so it lies inside one such stretch; the match
    is searched in the whole text limited to the stretch plus the character after it, so the
    look-behind and look-ahead see what they would see in the whole text.
    """
    pieces: list[str] = []
    emitted = searched = 0
    while (hit := _PHONE_HINT.search(text, searched)) is not None:
        start = hit.start()
        while start > searched and _PHONE_CHAR.match(text, start - 1):
            start -= 1
        end = _PHONE_RUN.match(text, hit.end()).end()  # type: ignore[union-attr]
        for match in _PHONE.finditer(text, start, end + 1):
            pieces += (text[emitted : match.start()], PHONE_TOKEN)
            emitted = match.end()
        searched = end
    if not pieces:
        return text
    pieces.append(text[emitted:])
    return "".join(pieces)


def normalize_flat_urls(text: str) -> tuple[str, list[str] | None]:
    """``normalize_flat(text)``, and ``find_urls(text)`` when it comes for free, else None.

    Without an e-mail address to replace first, the link placeholders are put exactly where
    ``find_urls`` finds the URLs, so one pass of the URL pattern serves both.
    """
    urls: list[str] | None = []
    if "@" in text:
        text = _sub_near(_EMAIL, EMAIL_TOKEN, text, _AT)
        urls = None

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        if urls is not None:
            urls.append(url.rstrip(".,;:!?"))
        host = url_host(url)
        tld = host.rsplit(".", 1)[-1] if "." in host else ""
        return f"{URL_TOKEN}{host.replace('.', ' ').replace('-', ' ')} xtld{tld} "

    text = _sub_near(_URL, link, text, _URL_HINT)
    text = shorten_runs(_sub_phones(text))
    return " ".join(text.split()), urls  # = _SPACE_RUN.sub(" ", text).strip(), faster
