"""HTML help-centre pages as the Markdown-like text articles are kept in: ``#`` heading
lines, one paragraph per block, list items as "- item"."""

from __future__ import annotations

import warnings

import bs4
from bs4.element import NavigableString

# Tags whose text is never article text.
DROPPED_TAGS = frozenset({"script", "style", "nav", "noscript", "template", "head", "title", "svg"})
HEADING_LEVELS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}
# Tags that end a paragraph; anything else (a, span, strong, …) is inline text.
BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "main", "body", "html", "ul", "ol", "dl", "dt", "dd",
     "table", "thead", "tbody", "tr", "td", "th", "blockquote", "pre", "figure", "figcaption",
     "header", "footer", "aside", "form", "hr", "h5", "h6", "details", "summary"}
)  # fmt: skip


def parse_html(text: str) -> bs4.BeautifulSoup:
    """The stdlib parser's tree (it copes with broken markup), without bs4's hints about
    markup that looks like a file name or XML."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs4.MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", bs4.XMLParsedAsHTMLWarning)
        return bs4.BeautifulSoup(text, "html.parser")


def html_to_text(soup: bs4.BeautifulSoup) -> str:
    """The Markdown-like body: ``#`` heading lines, one paragraph per block, list items as
    "- item", whitespace collapsed, scripts, styles and navigation dropped."""
    return "\n\n".join(_Blocks().walk(soup).paragraphs)


class _Blocks:
    """Collects the paragraphs of an HTML tree in document order."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.inline: list[str] = []
        self.prefix = ""  # "- " while the next paragraph is a list item's

    def walk(self, node: bs4.Tag) -> _Blocks:
        """Adds the paragraphs under ``node``."""
        for child in node.children:
            if isinstance(child, bs4.Tag):
                self.tag(child)
            elif type(child) is NavigableString:  # not a comment, doctype or CDATA
                self.inline.append(str(child))
        return self

    def tag(self, tag: bs4.Tag) -> None:
        name = tag.name.lower()
        if name in DROPPED_TAGS:
            return
        # A heading or item marks the first paragraph inside it: its own text, even when
        # broken markup (an unclosed <h1>) has put the following blocks inside it too.
        if name in HEADING_LEVELS or name == "li":
            self.flush()
            self.prefix = "#" * HEADING_LEVELS[name] + " " if name != "li" else "- "
            self.walk(tag).flush()
            self.prefix = ""  # an empty one leaves no marker for the next paragraph
        elif name in BLOCK_TAGS:
            self.flush()
            self.walk(tag).flush()
        elif name == "br":
            self.inline.append(" ")
        else:
            self.walk(tag)

    def flush(self) -> None:
        text = collapse("".join(self.inline))
        self.inline.clear()
        if text:
            self.paragraphs.append(self.prefix + text)
            self.prefix = ""


def collapse(text: str) -> str:
    """Runs of whitespace as one space, ends stripped."""
    return " ".join(text.split())
