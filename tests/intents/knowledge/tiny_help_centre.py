"""A tiny hand-made help centre for the index, answerer and evaluation tests: one passage per
article, topics far enough apart that a clear paraphrase has one right answer."""

from __future__ import annotations

from intents.knowledge.documents import Passage

ARTICLES = {
    "merino.md": (
        "Caring for merino wool",
        "Hand wash merino jumpers in cool water with a wool detergent, never tumble dry, and "
        "dry them flat on a towel so they keep their shape.",
    ),
    "gift-cards.md": (
        "Gift cards",
        "Gift cards are sent by email within minutes of purchase, never expire and can be "
        "spent on anything in the shop, in one order or several.",
    ),
    "returns.md": (
        "Returning an order",
        "You can return unworn items within 30 days of delivery for a full refund. Print the "
        "prepaid label from your account and drop the parcel at any post office.",
    ),
    "warranty.md": (
        "Homeware warranty",
        "Kettles, toasters and other homeware carry a two-year warranty against manufacturing "
        "faults. Send us a photo of the fault and your order number to claim.",
    ),
    "sizing.md": (
        "Size guide",
        "Our jeans run small: if you are between two waist sizes, order the larger one. Measure "
        "your waist at the narrowest point and compare with the size chart.",
    ),
    "discounts.md": (
        "Discount codes",
        "Enter a discount code at checkout in the promo code box. Only one code can be used per "
        "order and codes cannot be applied to gift cards.",
    ),
}


def passages() -> list[Passage]:
    """One passage per article of :data:`ARTICLES`."""
    return [
        Passage(key, title, f"https://shop.example/help/{key[:-3]}", None, text)
        for key, (title, text) in ARTICLES.items()
    ]
