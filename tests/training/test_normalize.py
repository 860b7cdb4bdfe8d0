import pytest

from training.normalize import fold, normalize_text, strip_html


@pytest.mark.parametrize(
    ("obfuscated", "plain"),
    [
        ("v i a g r a", "viagra"),
        ("v.i.a.g.r.a", "viagra"),
        ("vіagra", "viagra"),  # Cyrillic і
        ("v\u200biag\u200dra", "viagra"),
        ("ｖｉａｇｒａ", "viagra"),
        ("c4s1n0", "casino"),
        ("fr€€ c@sh", "fr€€ cash"),
        ("ＦＲＥＥ", "free"),
    ],
)
def test_fold_undoes_obfuscation(obfuscated: str, plain: str) -> None:
    assert fold(obfuscated) == plain


@pytest.mark.parametrize(
    "text",
    ["python3 and mp3 files", "h264 video", "Привет, как дела?", "Καλημέρα", "日本語のコメント"],
)
def test_fold_leaves_genuine_text_alone(text: str) -> None:
    assert fold(text) == text.lower()


def test_html_keeps_link_targets_and_alt_text() -> None:
    text = strip_html('<p>nice &amp; <a href="http://x.shop/">cheap</a><img alt="buy pills"></p>')
    assert "http://x.shop/" in text
    assert "buy pills" in text
    assert "&amp;" not in text


def test_placeholders_for_links_emails_and_phones() -> None:
    text = normalize_text("Call +1 (888) 555-0199 or mail help@x.example, see http://a.b-c.shop/p")
    assert "xphonex" in text
    assert "xemailx" in text
    assert "xurlx" in text
    assert "xtldshop" in text
    assert "555" not in text


def test_normalize_is_idempotent_on_examples() -> None:
    for text in ["Buy v1agra at http://x.shop!!!!!", "<b>Hi</b> &lt;3", "ﾃｽﾄ  ｔｅｓｔ"]:
        once = normalize_text(text)
        assert normalize_text(once) == once
