"""Loading a help-centre folder: each format, each kind of bad file (one warning naming it, the
rest loaded), the content hash, and the demo shop's bundled sample articles."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from intents.knowledge import articles as articles_module
from intents.knowledge.articles import (
    MAX_ARTICLE_BYTES,
    SAMPLE_ARTICLES_PATH,
    Library,
    MissingKnowledgeFolder,
    content_hash,
    load_articles,
)
from intents.knowledge.documents import Article

MERINO = """---
title: Caring for merino
url: https://shop.example.com/help/merino
---
# Merino jumpers

## Washing

Hand wash at 30°C.
"""
PAGE = """<!doctype html><html><head><title>Gift cards</title>
<link rel="canonical" href="https://shop.example.com/help/gift-cards">
<script>track()</script><style>p { color: red }</style></head>
<body><nav>Home | Help</nav><h1>Gift cards</h1><p>Cards   last
<b>two</b> years.</p><h2>Balance</h2><ul><li>Check online</li><li>Ask in store</li></ul>
</body></html>"""


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def only(library: Library) -> Article:
    (article,) = library.articles
    return article


def test_markdown_takes_title_and_url_from_front_matter(tmp_path: Path) -> None:
    write(tmp_path, "merino.md", MERINO)
    library = load_articles(tmp_path)
    article = only(library)
    assert (article.key, article.title, article.url) == (
        "merino.md",
        "Caring for merino",
        "https://shop.example.com/help/merino",
    )
    assert article.body.startswith("# Merino jumpers\n\n## Washing")
    assert library.warnings == ()


def test_markdown_title_falls_back_to_heading_then_file_name(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "Intro line.\n\n# Washing denim\n\nInside out, cold.\n")
    write(tmp_path, "b/store-card_terms.md", "No heading here.\n")
    first, second = load_articles(tmp_path).articles
    assert (first.title, first.url) == ("Washing denim", None)
    assert (second.key, second.title) == ("b/store-card_terms.md", "Store card terms")


def test_html_page_gives_title_canonical_url_and_markdown_like_body(tmp_path: Path) -> None:
    write(tmp_path, "gift.html", PAGE)
    article = only(load_articles(tmp_path))
    assert (article.title, article.url) == (
        "Gift cards",
        "https://shop.example.com/help/gift-cards",
    )
    assert article.body == (
        "# Gift cards\n\nCards last two years.\n\n## Balance\n\n- Check online\n\n- Ask in store"
    )


def test_html_title_falls_back_to_first_h1(tmp_path: Path) -> None:
    write(tmp_path, "page.htm", "<p>Intro</p><h1>Price match</h1><p>We match prices.</p>")
    article = only(load_articles(tmp_path))
    assert (article.title, article.url) == ("Price match", None)


def test_zendesk_export_loads_published_articles_and_warns_on_bad_entries(
    tmp_path: Path,
) -> None:
    export = {
        "articles": [
            {"title": "Warranty", "body": "<p>Two years.</p>", "html_url": "https://z/1"},
            {"title": "Draft", "body": "<p>Not yet.</p>", "draft": True},
            {"title": "No body"},
            "not an object",
            {"title": "Klarna", "body": "<h2>Pay later</h2><p>In 3 parts.</p>"},
        ]
    }
    write(tmp_path, "export.json", json.dumps(export))
    library = load_articles(tmp_path)
    assert [(a.key, a.title, a.url, a.body) for a in library.articles] == [
        ("export.json#0", "Warranty", "https://z/1", "Two years."),
        ("export.json#4", "Klarna", None, "## Pay later\n\nIn 3 parts."),
    ]
    assert library.warnings == (
        "export.json: article 2 has no title or no body, skipped",
        "export.json: article 3 is not an object, skipped",
    )


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", "", "empty"),
        ("blank.html", " \n\t\n", "empty"),
        ("huge.md", "# Huge\n\n" + "x" * MAX_ARTICLE_BYTES, "larger than"),
        ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("only-front-matter.md", "---\ntitle: T\n---\n\n", "no text"),
        ("scripts.html", "<script>x()</script><nav>menu</nav>", "no text"),
        ("broken.json", '{"articles": [', "not JSON"),
        ("other.json", '{"sections": []}', "not a Zendesk export"),
    ],
)
def test_an_unusable_file_is_one_warning_naming_it_and_the_rest_loads(
    tmp_path: Path, name: str, content: str | bytes, reason: str
) -> None:
    write(tmp_path, "good.md", MERINO)
    write(tmp_path, name, content)
    library = load_articles(tmp_path)
    assert [a.key for a in library.articles] == ["good.md"]
    (warning,) = library.warnings
    assert warning.startswith(f"{name}: ")
    assert reason in warning


def test_broken_html_is_still_indexed(tmp_path: Path) -> None:
    write(tmp_path, "broken.html", "<h1>Candles<p>Never leave a <b>candle burning<li>Trim wick")
    library = load_articles(tmp_path)
    assert only(library).body == "# Candles\n\nNever leave a candle burning\n\n- Trim wick"
    assert library.warnings == ()


def test_deeply_nested_markup_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path, "deep.html", "<div>" * 5000 + "text")
    write(tmp_path, "good.md", MERINO)
    library = load_articles(tmp_path)
    assert [a.key for a in library.articles] == ["good.md"]
    (warning,) = library.warnings
    assert warning.startswith("deep.html: ")


def test_non_utf8_text_is_read_as_cp1252_with_a_warning(tmp_path: Path) -> None:
    write(
        tmp_path,
        "care.md",
        "# Care\n\nWash at 30°C \u2013 don\u2019t tumble dry.\n".encode("cp1252"),
    )
    library = load_articles(tmp_path)
    assert "30°C \u2013 don\u2019t" in only(library).body
    assert library.warnings == ("care.md: not UTF-8, read as cp1252",)


def test_a_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    write(tmp_path, "bom.md", "\ufeff---\ntitle: With BOM\n---\nText.\n".encode())
    assert only(load_articles(tmp_path)).title == "With BOM"


def test_front_matter_that_is_not_a_mapping_is_ignored_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "odd.md", "---\ntitle: [unclosed\n---\n# Heading title\n\nText.\n")
    library = load_articles(tmp_path)
    assert only(library).title == "Heading title"
    assert library.warnings == ("odd.md: front matter is not a YAML mapping, ignored",)


def test_duplicate_titles_are_both_kept_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "# Returns\n\nThirty days.\n")
    write(tmp_path, "b.html", "<title>RETURNS</title><p>Free label.</p>")
    library = load_articles(tmp_path)
    assert [a.key for a in library.articles] == ["a.md", "b.html"]
    assert library.warnings == ('b.html: same title "RETURNS" as a.md (both kept)',)


def test_other_files_are_ignored_silently_and_order_is_stable(tmp_path: Path) -> None:
    for name in ("z.md", "a/b.md", "a.md", "notes.txt", "logo.png", ".hidden.md", ".git/x.md"):
        write(tmp_path, name, f"# {name}\n\nText.\n")
    library = load_articles(tmp_path)
    assert [a.key for a in library.articles] == ["a.md", "a/b.md", "z.md"]
    assert library.warnings == ()


def test_a_file_gone_while_reading_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "a.md", MERINO)
    gone = write(tmp_path, "b.md", MERINO)
    listed = articles_module.article_files(tmp_path)
    gone.unlink()  # removed between listing and reading, as when the folder is replaced
    monkeypatch.setattr(articles_module, "article_files", lambda folder: listed)
    library = load_articles(tmp_path)
    assert [a.key for a in library.articles] == ["a.md"]
    (warning,) = library.warnings
    assert warning.startswith("b.md: could not be read")


def test_a_missing_folder_raises_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(MissingKnowledgeFolder) as raised:
        load_articles(missing)
    assert raised.value.path == missing
    with pytest.raises(MissingKnowledgeFolder):
        content_hash(missing)


def test_content_hash_follows_the_articles_only(tmp_path: Path) -> None:
    write(tmp_path, "a.md", MERINO)
    first = content_hash(tmp_path)
    assert content_hash(tmp_path) == first
    write(tmp_path, "notes.txt", "not an article")
    os.utime(tmp_path / "a.md", (0, 0))  # touched, not changed
    assert content_hash(tmp_path) == first
    write(tmp_path, "a.md", MERINO + "More.\n")
    changed = content_hash(tmp_path)
    assert changed != first
    write(tmp_path, "sub/b.md", "# B\n")
    added = content_hash(tmp_path)
    assert added not in {first, changed}
    (tmp_path / "sub" / "b.md").rename(tmp_path / "sub" / "c.md")
    assert content_hash(tmp_path) not in {first, changed, added}


def test_the_sample_articles_load_cleanly_from_the_package(tmp_path: Path) -> None:
    library = load_articles(SAMPLE_ARTICLES_PATH)
    assert library.warnings == ()
    assert 18 <= len(library.articles) <= 25
    for article in library.articles:
        assert article.url == f"https://shop.example.com/help/{Path(article.key).stem}"
        assert article.body.startswith(f"# {article.title}\n")
        assert 2 <= article.body.count("\n## ") <= 5, article.key
    copy = shutil.copytree(SAMPLE_ARTICLES_PATH, tmp_path / "copy")
    assert content_hash(copy) == content_hash(SAMPLE_ARTICLES_PATH)
