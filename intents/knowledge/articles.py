"""Loading a help-centre folder: Markdown files, HTML pages and Zendesk Help Center exports
become :class:`Article` s, and every file that cannot be used becomes a one-line warning naming
it, never an exception (a shop's folder is whatever its help centre exported)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bs4
import yaml

from intents.knowledge.documents import Article
from intents.knowledge.html_text import collapse, html_to_text, parse_html

MAX_ARTICLE_BYTES = 1_000_000  # a Markdown or HTML article; a real one is a few kB
MAX_EXPORT_BYTES = 50_000_000  # a Zendesk export holds a whole help centre in one file
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
EXPORT_SUFFIXES = frozenset({".json"})
ARTICLE_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | EXPORT_SUFFIXES
FALLBACK_ENCODING = "cp1252"  # what non-UTF-8 text from a help-centre tool mostly is
# The demo shop's sample articles, shipped as package data next to this package.
SAMPLE_ARTICLES_PATH = Path(__file__).resolve().parent.parent / "help_centre"
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*$\r?\n?", re.S | re.M)
MARKDOWN_TITLE = re.compile(r"^#[ \t]+(.+?)[ \t#]*(?=\n|\Z)", re.M)  # to a line\'s end

logger = logging.getLogger(__name__)


class MissingKnowledgeFolder(Exception):  # noqa: N818 - the name the settings map
    """The knowledge folder does not exist (or is not a folder)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no help-centre folder at {path}")
        self.path = path


class UnusableFileError(Exception):
    """One file that cannot become articles; its message is the warning's reason."""


@dataclass(frozen=True)
class Library:
    """The articles of a folder, in a stable order, and one warning per file left out or read
    with a fallback."""

    articles: tuple[Article, ...]
    warnings: tuple[str, ...]


def load_articles(folder: Path) -> Library:
    """Every article of ``folder`` (read recursively, files in sorted order)."""
    articles: list[Article] = []
    notes: list[str] = []
    for path in article_files(folder):
        relative = path.relative_to(folder).as_posix()
        try:
            articles.extend(read_file(path, relative, notes))
        except UnusableFileError as reason:
            notes.append(f"{relative}: {reason}")
        except OSError as error:  # the folder changed under us: this file is gone
            notes.append(f"{relative}: could not be read ({error.strerror or error})")
        except RecursionError:  # markup nested deeper than a parser can walk
            notes.append(f"{relative}: nested too deeply to read, skipped")
    notes.extend(duplicate_titles(articles))
    return Library(tuple(articles), tuple(notes))


def content_hash(folder: Path) -> str:
    """A hash of every article file's relative path and bytes: equal while the folder's
    articles are unchanged, different as soon as a file changes, appears or disappears."""
    digest = hashlib.sha256()
    for path in article_files(folder):
        relative = path.relative_to(folder).as_posix().encode()
        try:
            with path.open("rb") as file:
                content = hashlib.file_digest(file, "sha256").digest()
        except OSError:
            continue  # gone since it was listed: hashed as absent, as load_articles skips it
        digest.update(len(relative).to_bytes(4, "big") + relative + content)
    return digest.hexdigest()


def article_files(folder: Path) -> list[Path]:
    """The article files under ``folder``, sorted by relative path; hidden files and folders
    (``.git``, ``.DS_Store``) and other file types are left out."""
    if not folder.is_dir():
        raise MissingKnowledgeFolder(folder)
    found: list[Path] = []
    # os.walk skips a subfolder that vanishes while it is listed instead of raising.
    for root, dirs, files in os.walk(folder):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in files:
            path = Path(root, name)
            if name.startswith("."):
                continue
            if path.suffix.lower() in ARTICLE_SUFFIXES:
                found.append(path)
            else:
                logger.debug("knowledge: ignoring %s (not an article file type)", path)
    return sorted(found, key=lambda path: path.relative_to(folder).as_posix())


def read_file(path: Path, relative: str, notes: list[str]) -> list[Article]:
    """The articles of one file; fallbacks taken (an encoding, a skipped export entry) are
    added to ``notes``."""
    suffix = path.suffix.lower()
    cap = MAX_EXPORT_BYTES if suffix in EXPORT_SUFFIXES else MAX_ARTICLE_BYTES
    text = decode(read_capped(path, cap), relative, notes)
    if suffix in MARKDOWN_SUFFIXES:
        return [markdown_article(text, relative, path.stem, notes)]
    if suffix in HTML_SUFFIXES:
        return [html_article(text, relative, path.stem)]
    return export_articles(text, relative, notes)


def read_capped(path: Path, cap: int) -> bytes:
    """The file's bytes, refused when over ``cap``, empty, or binary."""
    with path.open("rb") as file:
        data = file.read(cap + 1)  # one byte more tells an over-size file without reading it
    if len(data) > cap:
        raise UnusableFileError(f"larger than {cap:,} bytes, skipped")
    if not data.strip():
        raise UnusableFileError("empty, skipped")
    if b"\x00" in data:
        raise UnusableFileError("binary (holds NUL bytes), skipped")
    return data


def decode(data: bytes, relative: str, notes: list[str]) -> str:
    """UTF-8 text (a BOM dropped), else the bytes read as cp1252 with a note."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        notes.append(f"{relative}: not UTF-8, read as {FALLBACK_ENCODING}")
        return data.decode(FALLBACK_ENCODING, errors="replace")


def markdown_article(text: str, relative: str, stem: str, notes: list[str]) -> Article:
    """A Markdown article: title and url from the front matter, else the first ``# ``
    heading, else the file name. Front matter that is not a YAML mapping is noted and left
    out (the article itself is still good)."""
    meta: dict[str, object] = {}
    match = FRONT_MATTER.match(text)
    if match:
        text = text[match.end() :]
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError:
            loaded = None
        if isinstance(loaded, dict):
            meta = {str(key): value for key, value in loaded.items()}
        elif match.group(1).strip():
            notes.append(f"{relative}: front matter is not a YAML mapping, ignored")
    body = text.strip()
    if not body:
        raise UnusableFileError("no text after the front matter, skipped")
    heading = MARKDOWN_TITLE.search(body)
    title = scalar(meta.get("title")) or (heading.group(1) if heading else file_title(stem))
    return Article(relative, title, scalar(meta.get("url")), body)


def html_article(text: str, relative: str, stem: str) -> Article:
    """An HTML page: title from ``<title>`` or the first ``<h1>``, url from the canonical
    link, the body converted to the Markdown-like form."""
    soup = parse_html(text)
    title = ""
    for tag in (soup.title, soup.find("h1")):
        if isinstance(tag, bs4.Tag):
            title = collapse(tag.get_text(" "))
        if title:
            break
    link = soup.find("link", rel="canonical")
    url = scalar(link.get("href")) if isinstance(link, bs4.Tag) else None
    body = html_to_text(soup)
    if not body:
        raise UnusableFileError("no text in the page, skipped")
    return Article(relative, title or file_title(stem), url, body)


def export_articles(text: str, relative: str, notes: list[str]) -> list[Article]:
    """The published articles of a Zendesk Help Center export (drafts left out)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnusableFileError(f"not JSON ({error.msg} at line {error.lineno}), skipped") from None
    entries = data.get("articles") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise UnusableFileError('not a Zendesk export (no "articles" list), skipped')
    articles: list[Article] = []
    for number, entry in enumerate(entries):
        try:
            article = export_article(entry, f"{relative}#{number}")
        except UnusableFileError as reason:
            notes.append(f"{relative}: article {number} {reason}")
            continue
        if article is not None:
            articles.append(article)
    return articles


def export_article(entry: object, key: str) -> Article | None:
    """One entry of an export; None for a draft."""
    if not isinstance(entry, dict):
        raise UnusableFileError("is not an object, skipped")
    if entry.get("draft") is True:
        return None
    title, html = scalar(entry.get("title")), entry.get("body")
    if not title or not isinstance(html, str):
        raise UnusableFileError("has no title or no body, skipped")
    if len(html.encode()) > MAX_ARTICLE_BYTES:
        raise UnusableFileError(f"is larger than {MAX_ARTICLE_BYTES:,} bytes, skipped")
    body = html_to_text(parse_html(html))
    if not body:
        raise UnusableFileError(f'("{title}") has no text, skipped')
    return Article(key, title, scalar(entry.get("html_url")), body)


def duplicate_titles(articles: list[Article]) -> Iterator[str]:
    """A note for each article whose title an earlier article already has (both are kept)."""
    first: dict[str, str] = {}
    for article in articles:
        key = article.title.casefold()
        if key in first:
            yield f'{article.key}: same title "{article.title}" as {first[key]} (both kept)'
        else:
            first[key] = article.key


def scalar(value: object) -> str | None:
    """A front-matter or JSON value as stripped text; None when absent, empty or not text."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def file_title(stem: str) -> str:
    """A title made from a file name: "merino-care" → "Merino care"."""
    words = collapse(stem.replace("-", " ").replace("_", " "))
    return words[:1].upper() + words[1:]
