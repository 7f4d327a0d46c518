"""SMS text rules: encodings, segment counts, splitting, keywords and sender ids."""

from __future__ import annotations

import pytest

from connectors.sms.text import (
    ARTICLE_BODY_CHARS,
    ELLIPSIS,
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_BODY_CHARS,
    MIN_ARTICLE_TEXT,
    Keyword,
    SenderKind,
    article_body,
    choices,
    is_gsm7,
    keyword,
    segments,
    sender_kind,
    split,
    trim_sentences,
)

EMOJI = "\N{GRINNING FACE}"  # outside the BMP: two UTF-16 code units
SENTENCE = "Your order ships within two business days from our warehouse."  # 61 chars


def test_the_tables_are_gsm_03_38() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, less ESC
    assert set("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "gsm7"),
    [
        ("", True),
        ("Hello, world! @£$¥ èéùìò ÄÖÑÜ§ ¿¡ ΔΦΓΛΩΠΨΣΘΞ\n\r", True),
        ("€ { } [ ] ~ \\ ^ |", True),
        ("ç", False),  # only capital Ç is in the table
        ("á", False),
        ("`", False),
        ("\x1b", False),
        ("hi " + EMOJI, False),
        ("привет", False),
        ("\N{RIGHT SINGLE QUOTATION MARK}", False),  # a typographic apostrophe forces UCS-2
    ],
)
def test_is_gsm7(text: str, gsm7: bool) -> None:
    assert is_gsm7(text) is gsm7


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 1),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("a" * 460, 4),
        ("€" * 80, 1),  # 160 septets
        ("€" + "a" * 159, 2),  # 161 septets
        ("a" * 158 + "{", 1),
        ("a" * 159 + "}", 2),
        ("[]~\\^|" + "a" * 148, 1),  # 6 extension chars: 12 + 148 = 160 septets
        ("[]~\\^|" + "a" * 149, 2),
        # an escape pair is never split across parts: it moves whole to the next part
        ("a" * 152 + "€" + "a" * 152, 3),
        ("a" * 151 + "€" + "a" * 152, 2),
        ("é" * 70, 1),
        ("ç" * 70, 1),  # UCS-2
        ("ç" * 71, 2),
        ("ç" * 134, 2),
        ("ç" * 135, 3),
        ("a" * 69 + "ç", 1),
        ("a" * 160 + "ç", 3),  # one non-GSM character turns the whole text UCS-2
        (EMOJI * 35, 1),  # 70 code units
        (EMOJI * 36, 2),
        ("a" * 69 + EMOJI, 2),  # 71 units
        (EMOJI * 66, 2),  # 132 units: 33 emoji a part
        # a surrogate pair is never split across parts either
        ("a" * 66 + EMOJI + "a" * 66, 3),
        (EMOJI * 67, 3),  # 134 units, but a part holds only 33 whole emoji
    ],
)
def test_segments(text: str, count: int) -> None:
    assert segments(text) == count


def test_a_short_text_is_one_stripped_part() -> None:
    assert split("  Hello there.  ") == ["Hello there."]
    assert split("x" * MAX_BODY_CHARS) == ["x" * MAX_BODY_CHARS]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_a_blank_text_has_no_parts(text: str) -> None:
    assert split(text) == []


def test_a_long_text_splits_on_sentence_boundaries() -> None:
    text = " ".join([SENTENCE] * 57)  # 3,533 characters
    parts = split(text)
    assert len(text) > 3500
    assert len(parts) == 3
    assert all(0 < len(part) <= MAX_BODY_CHARS for part in parts)
    assert all(part.endswith(".") and part == part.strip() for part in parts)
    assert " ".join(parts) == text


def test_newlines_are_boundaries_and_kept_inside_parts() -> None:
    text = "\n".join(f"Line {n} has no full stop" for n in range(200))
    parts = split(text, limit=100)
    assert all(0 < len(part) <= 100 for part in parts)
    assert all(part.endswith("full stop") for part in parts)
    assert "\n" in parts[0]
    assert " ".join(parts).split() == text.split()


def test_without_sentences_it_splits_between_words() -> None:
    text = " ".join(f"word{n}" for n in range(1000))
    parts = split(text, limit=160)
    assert all(0 < len(part) <= 160 for part in parts)
    assert " ".join(parts) == text


def test_a_short_opening_sentence_does_not_waste_a_part() -> None:
    text = "Hi. " + " ".join(["lorem"] * 40)
    parts = split(text, limit=100)
    assert len(parts[0]) > 90
    assert " ".join(parts) == text


def test_a_text_without_spaces_is_cut_hard() -> None:
    text = "abcdefghij" * 400
    parts = split(text)
    assert [len(part) for part in parts] == [1600, 1600, 800]
    assert "".join(parts) == text


def test_only_the_over_long_word_is_cut() -> None:
    text = "Short words first. " + "x" * 250 + " then short words again."
    parts = split(text, limit=100)
    assert parts[0] == "Short words first."
    assert all(0 < len(part) <= 100 for part in parts)
    assert "".join(parts[1:-1]) + parts[-1][:50] == "x" * 250
    assert parts[-1].endswith(" then short words again.")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", Keyword.STOP),
        ("  Stop! ", Keyword.STOP),
        ("stop.", Keyword.STOP),
        ('"Stop"', Keyword.STOP),
        ("StopAll", Keyword.STOP),
        ("unsubscribe", Keyword.STOP),
        ("Cancel", Keyword.STOP),
        ("end", Keyword.STOP),
        ("QUIT!!!", Keyword.STOP),
        ("start", Keyword.START),
        ("Unstop", Keyword.START),
        ("yes!", Keyword.START),
        ("help?", Keyword.HELP),
        ("\tInfo\n", Keyword.HELP),
        ("¿help?", Keyword.HELP),
        ("stop sending me stuff", None),
        ("please stop", None),
        ("stop all", None),
        ("stopp", None),
        ("yes please", None),
        ("", None),
        ("!!!", None),
    ],
)
def test_keyword(body: str, expected: Keyword | None) -> None:
    assert keyword(body) is expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("+15551234567", SenderKind.PHONE),
        ("+447911123456", SenderKind.PHONE),
        ("+12345678", SenderKind.PHONE),  # 8 digits
        ("+123456789012345", SenderKind.PHONE),  # 15 digits
        ("+1234567", None),  # 7 digits
        ("+1234567890123456", None),  # 16 digits
        ("+05551234567", None),
        ("+1 555 123 4567", None),
        ("15551234567", None),  # no "+", too long for a short code; never guessed into E.164
        ("123", SenderKind.SHORT_CODE),
        ("12345678", SenderKind.SHORT_CODE),
        ("12", None),
        ("123456789", None),
        ("Acme", SenderKind.ALPHANUMERIC),
        ("Acme Shop 1", SenderKind.ALPHANUMERIC),  # 11 characters
        ("A", SenderKind.ALPHANUMERIC),
        ("Acme Shop 12", None),  # 12 characters
        ("123 456", None),  # no letter
        (" Acme", None),
        ("Acme ", None),
        ("Acme-Shop", None),
        ("Ácme", None),
        ("", None),
        ("+", None),
        ("+15551234567\n", None),
        ("\uff11\uff12\uff13", None),  # full-width digits
    ],
)
def test_sender_kind(value: str, kind: SenderKind | None) -> None:
    assert sender_kind(value) is kind


URL = "https://help.example.com/articles/merino-care"


def test_an_article_answer_is_trimmed_on_a_sentence_and_keeps_its_link() -> None:
    passage = " ".join([SENTENCE] * 8)  # 495 characters of whole sentences
    body = article_body(passage, "Caring for merino", URL)
    text, link = body.split("\n")
    assert len(body) <= ARTICLE_BODY_CHARS
    assert link == f"Caring for merino: {URL}"
    assert text.endswith("warehouse.")  # whole sentences only
    assert passage.startswith(text)
    assert len(body) + len(SENTENCE) + 1 > ARTICLE_BODY_CHARS  # no room for one more
    assert is_gsm7(body)


def test_a_short_article_answer_is_sent_whole() -> None:
    assert article_body("Wash it cold.", "Care", URL) == f"Wash it cold.\nCare: {URL}"
    assert article_body("Wash it cold.", "Care", None) == "Wash it cold.\nCare"


def test_a_first_sentence_too_long_is_cut_between_words_in_gsm7() -> None:
    passage = "word " * 100
    body = article_body(passage, "Care", URL)
    text = body.split("\n")[0]
    assert len(body) <= ARTICLE_BODY_CHARS
    assert text.endswith("word" + ELLIPSIS)
    assert is_gsm7(body)


def test_a_long_title_is_cut_and_a_long_link_kept_whole() -> None:
    long_url = "https://help.example.com/" + "a" * 300
    body = article_body(SENTENCE * 2, "Title " * 40, long_url)
    assert body.endswith(long_url)
    assert len(body.split("\n")[1].removesuffix(long_url)) <= 82  # title, ": "
    assert len(body.split("\n")[0]) <= MIN_ARTICLE_TEXT  # the passage keeps a little


@pytest.mark.parametrize(
    ("text", "limit", "trimmed"),
    [
        ("One. Two. Three.", 16, "One. Two. Three."),
        ("One. Two. Three.", 15, "One. Two."),
        ("One. Two. Three.", 9, "One. Two."),
        ("One. Two. Three.", 8, "One."),
        ("Is it? Yes! Fine.", 12, "Is it? Yes!"),
        ("First line\nsecond line", 15, "First line"),
        ("alpha beta gamma", 12, "alpha..."),
        ("3.5 kg. Heavy", 10, "3.5 kg."),
    ],
)
def test_trim_sentences(text: str, limit: int, trimmed: str) -> None:
    assert trim_sentences(text, limit) == trimmed
    assert len(trimmed) <= limit


def test_options_are_numbered_and_a_rating_reads_reply_1_to_5() -> None:
    assert choices(("Yes", "No")) == ["1. Yes", "2. No"]
    assert choices(("1", "2", "3", "4", "5")) == ["Reply 1-5"]
    assert choices(("1", "2", "4")) == ["1. 1", "2. 2", "3. 4"]  # not the numbers 1 to n
    assert choices(("1",)) == ["1. 1"]
    assert choices(()) == []
