"""Is there anything to read in a message, and is it English? Cheap checks the dispatcher makes
before classifying (the intent engine understands English only)."""

from __future__ import annotations

import re
import unicodedata

# Words common in the languages shop customers most often write in (Spanish, French, German,
# Portuguese, Italian, Dutch) that are not English words; see :func:`not_english`.
FOREIGN_WORDS = frozenset(
    str.split(
        "dónde donde está estoy mi mis pedido hola gracias por favor qué quiero tengo hace cuándo "
        "cuando pero muy los las una compré semanas todavía nada necesito ayuda entiendo hablo "
        "inglés español "
        "je est où ma mon mes commande pas bonjour merci svp avec pour une des suis vous nous "
        "toujours reçu "
        "ich ist nicht meine mein wo bestellung bitte danke hallo ein eine der und wie warum noch "
        "habe keine "
        "onde meu minha obrigado obrigada olá encomenda não você "
        "dove mio ordine grazie ciao sono buongiorno perché ancora "
        "waar mijn bestelling ik niet bedankt hoi"
    )
)
ENGLISH_WORDS = frozenset(
    str.split(
        "the a an is are my i you to and of it where what when order not have has please for with "
        "this that can do was how why yes hi hello thanks"  # not "no", "me": Spanish too
    )
)


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit (not only emoji, symbols or punctuation)."""
    return any(c.isalnum() for c in text)


def not_english(text: str) -> bool:
    """Whether ``text`` is clearly not English, by a cheap heuristic: most of its letters are
    not Latin (Cyrillic, Chinese, Arabic, ...), or its words include common words of another
    language (:data:`FOREIGN_WORDS`) more than twice as often as common English ones, and make up
    a third of it. Mixed messages ("hola, where's my order?") count as English."""
    letters = [c for c in text if c.isalpha()]
    # ASCII letters are Latin: the name look-up only for the rest
    latin = sum(1 for c in letters if c.isascii() or unicodedata.name(c, "").startswith("LATIN"))
    if letters and latin * 2 < len(letters):
        return True
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(1 for w in words if w in FOREIGN_WORDS)
    english = sum(1 for w in words if w in ENGLISH_WORDS)
    return foreign > 0 and foreign > 2 * english and foreign * 3 >= len(words)
