"""Product words: the nouns a clothing and electronics shop's customers use for what they bought.

Products are a vocabulary, so this is one: :data:`PRODUCTS` (singular) and :data:`PLURAL_ONLY`
(words that have no singular in use: "jeans", "headphones"). Singular and plural forms both
match, in any case, as whole words; the value is the singular ("trainers" -> "trainer"), a
plural-only word's plural, and a spelling variant's usual form ("tshirt" -> "t-shirt").
"""

from __future__ import annotations

import re

from intents.entities.span import Span, first_value

PRODUCTS = (
    # clothing, shoes, accessories
    "shoe", "trainer", "sneaker", "boot", "sandal", "heel", "slipper", "flip flop", "jacket",
    "coat", "parka", "raincoat", "blazer", "gilet", "dress", "skirt", "jumpsuit", "hoodie",
    "jumper", "sweater", "cardigan", "sweatshirt", "fleece", "t-shirt", "shirt", "polo shirt",
    "blouse", "vest", "tank top", "crop top", "suit", "bra", "sports bra", "sock", "swimsuit",
    "bikini", "scarf", "hat", "beanie", "cap", "glove", "belt", "tie", "bag", "backpack",
    "rucksack", "handbag", "wallet", "purse", "necklace", "bracelet", "earring", "watch",
    "smartwatch", "dressing gown", "onesie", "uniform",
    # electronics and home
    "phone", "smartphone", "mobile phone", "phone case", "laptop", "computer", "tablet", "tv",
    "television", "telly", "monitor", "keyboard", "mouse", "headset", "speaker", "soundbar",
    "camera", "charger", "cable", "adapter", "adaptor", "battery", "power bank", "console",
    "controller", "printer", "router", "hard drive", "memory card", "usb stick", "blender",
    "kettle", "toaster", "microwave", "fridge", "freezer", "hoover", "vacuum", "hair dryer",
    "hairdryer", "straightener", "iron", "lamp", "bulb", "heater", "remote control",
    "air fryer", "coffee machine", "smart speaker", "e-reader",
)  # fmt: skip
PLURAL_ONLY = (
    "jeans", "trousers", "shorts", "leggings", "joggers", "tights", "pyjamas", "pajamas",
    "pants", "knickers", "boxers", "sunglasses", "glasses", "headphones", "earbuds",
    "earphones", "airpods", "overalls", "dungarees",
)  # fmt: skip
# Other spellings customers write -> the vocabulary's word.
VARIANTS = {
    "tshirt": "t-shirt", "t shirt": "t-shirt", "tee": "t-shirt", "hoody": "hoodie",
    "tele": "tv", "tv set": "tv", "mobile": "mobile phone", "cellphone": "phone",
    "cell phone": "phone", "headphone": "headphones", "earbud": "earbuds",
    "earphone": "earphones", "jean": "jeans", "ereader": "e-reader", "flip-flop": "flip flop",
    "hair-dryer": "hair dryer", "mice": "mouse", "scarves": "scarf", "trackies": "joggers",
}  # fmt: skip
# The word is no product when followed by these ("phone number", "watch out", "iron out").
NOT_PRODUCT_AFTER = re.compile(r"^\s+(?:number|no\b|call|line|out|me|us|you|up)\b", re.I)
# ... or after these ("won't boot", "please phone", "mobile number" is caught above).
NOT_PRODUCT_BEFORE = re.compile(r"\b(?:won't|wont|will not|doesn't|doesnt|to|pls|please)\s+\Z")
VERB_LIKE = ("boot", "phone", "watch", "iron", "tie", "suit", "cap", "mobile")


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh", "z")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _forms() -> dict[str, str]:
    forms = {word: word for word in PLURAL_ONLY}
    for word in PRODUCTS:
        forms[word] = forms[_plural(word)] = word
    for variant, word in VARIANTS.items():
        forms.setdefault(variant, word)
        forms.setdefault(_plural(variant), word)
    return forms


FORMS = _forms()
PRODUCT = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(
        re.escape(form).replace(r"\ ", r"[\s-]+") for form in sorted(FORMS, key=len, reverse=True)
    )
    + r")(?![\w-])",
    re.IGNORECASE,
)


def _used_as_product(text: str, start: int, end: int) -> bool:
    word = text[start:end].lower()
    if word not in VERB_LIKE:
        return True
    return not (NOT_PRODUCT_AFTER.search(text[end:]) or NOT_PRODUCT_BEFORE.search(text[:start]))


def find(text: str) -> list[Span]:
    """Every product word in ``text``, in order; the value is the vocabulary's form."""
    return [
        Span(m.start(), m.end(), FORMS[" ".join(m.group().lower().replace("-", " ").split())])
        for m in PRODUCT.finditer(text)
        if _used_as_product(text, m.start(), m.end())
    ]


def first(text: str) -> str | None:
    """The first product word in ``text``, or None."""
    return first_value(find(text))
