"""Warnings about a training catalogue: each problem named once, with its intents and counts."""

from __future__ import annotations

import random

from intents.catalogue import load_catalogue
from intents.catalogue_checks import (
    LONG_EXAMPLE_CHARS,
    MANY_INTENTS,
    MAX_NAMED,
    catalogue_warnings,
    looks_foreign,
    normalised,
)
from omnibot.settings import DEFAULT_INTENTS_PATH

Catalogue = dict[str, list[str]]

BASE: Catalogue = {
    "order_status": [
        "where is my order",
        "track my parcel",
        "has my package shipped",
        "when will my order arrive",
        "order tracking please",
    ],
    "refund": [
        "i want my money back",
        "how do i get a refund",
        "refund my purchase",
        "can i be reimbursed",
        "give me a refund",
    ],
    "opening_hours": [
        "when are you open",
        "opening hours",
        "what time do you close",
        "are you open on sunday",
        "store hours",
    ],
}


def warnings_of(catalogue: Catalogue) -> list[str]:
    texts = [text for examples in catalogue.values() for text in examples]
    labels = [name for name, examples in catalogue.items() for _ in examples]
    return catalogue_warnings(texts, labels)


def test_a_sound_catalogue_and_the_retail_one_have_no_warnings() -> None:
    assert warnings_of(BASE) == []
    assert catalogue_warnings(*load_catalogue(DEFAULT_INTENTS_PATH).training_data()) == []


def test_an_intent_with_one_example_is_named_with_what_the_engine_does() -> None:
    [line] = warnings_of({**BASE, "talk_to_human": ["get me a person"]})
    assert line.startswith("intent `talk_to_human` has a single example")
    assert "the answer rule is chosen on the other intents' examples alone" in line
    assert "threshold of 0.5" in line


def test_intents_with_fewer_examples_than_folds_are_named_with_their_counts() -> None:
    [line] = warnings_of(
        {**BASE, "cancel": ["cancel my order", "stop it", "undo"], "x": ["a", "b", "c", "d"]}
    )
    assert line.startswith("intents `cancel` (3 examples) and `x` (4 examples) have fewer than 5")
    assert "runs 3 folds instead of 5" in line


def test_examples_shared_between_intents_are_counted_per_pair_after_normalising() -> None:
    catalogue = {
        **BASE,
        "refund_copy": ["Refund my purchase!", "  I want my MONEY back ", "give me a refund?"],
        "money": ["refund my purchase.", "something else entirely", "and another one"],
    }
    lines = warnings_of(catalogue)
    shared = [line for line in lines if " share " in line]
    assert shared[0].startswith("intents `refund` and `refund_copy` share 3 examples (e.g. ")
    assert shared[1].startswith("intents `money` and `refund` share 1 example (e.g. ")
    assert shared[2].startswith("intents `money` and `refund_copy` share 1 example")
    assert len(shared) == 3


def test_the_warnings_do_not_depend_on_the_order_of_the_rows() -> None:
    catalogue = {**BASE, "refund_copy": BASE["refund"][:3], "solo": ["talk to someone"]}
    catalogue["ayuda"] = ["hola quiero ayuda ahora", "necesito ayuda con mi pedido"]
    rows = [(text, name) for name, examples in catalogue.items() for text in examples]
    expected = catalogue_warnings([t for t, _ in rows], [n for _, n in rows])
    random.Random(1).shuffle(rows)
    assert catalogue_warnings([t for t, _ in rows], [n for _, n in rows]) == expected
    assert len(expected) == 3  # single example, shared examples, non-English


def test_repeats_within_an_intent_are_a_minor_warning_not_a_shared_one() -> None:
    catalogue = {**BASE, "refund": [*BASE["refund"], "Give me a refund!", "give me a refund"]}
    [line] = warnings_of(catalogue)
    assert line.startswith("intent `refund` (2 repeated) has repeated examples (minor")


def test_very_many_intents_are_warned_about_above_the_limit_only() -> None:
    def catalogue(intents: int) -> Catalogue:
        return {
            f"intent_{i:03}": [
                f"topic {i} one",
                f"topic {i} two",
                f"topic {i} three",
                f"topic {i} four",
                f"topic {i} five",
            ]
            for i in range(intents)
        }

    assert warnings_of(catalogue(MANY_INTENTS)) == []
    [line] = warnings_of(catalogue(MANY_INTENTS + 1))
    assert line.startswith(f"{MANY_INTENTS + 1} intents (1,505 examples) is more than 300")


def test_non_english_intents_are_named_with_an_example_and_typos_are_not() -> None:
    catalogue = {
        **BASE,
        "pedido": ["dónde está mi paquete", "quiero cancelar mi pedido", "where is my parcel"],
        "typos": ["cancel my subscrption pls", "delete my acount", "whats the refund policy"],
    }
    few, line = warnings_of(catalogue)  # each has fewer than 5 examples
    assert few.startswith("intents `pedido` (3 examples) and `typos` (3 examples) have fewer")
    assert line.startswith('intent `pedido` looks non-English (2 of 3 examples, e.g. "dónde está')
    assert "English-only" in line
    assert looks_foreign("meine Karte funktioniert nicht mehr")
    assert looks_foreign("我的订单在哪里")
    assert looks_foreign("где мой заказ")
    assert not looks_foreign("my card wont work anymore")


def test_empty_examples_are_named_and_not_taken_for_shared_ones() -> None:
    catalogue = {
        **BASE,
        "refund": [*BASE["refund"], "", "?!"],
        "opening_hours": [*BASE["opening_hours"], "  "],
    }
    [line] = warnings_of(catalogue)
    assert line.startswith("intents `opening_hours` (1 empty) and `refund` (2 empty) have empty")


def test_an_example_longer_than_the_encoder_reads_is_named_with_its_length() -> None:
    assert warnings_of({**BASE, "refund": [*BASE["refund"], "x" * LONG_EXAMPLE_CHARS]}) == []
    huge = "please refund me " * 300  # 5,100 characters
    [line] = warnings_of({**BASE, "refund": [*BASE["refund"], huge]})
    assert line.startswith("intent `refund` (5,100 characters) has an example longer than 1,000")
    assert "first 256 word pieces" in line


def test_each_check_names_at_most_a_few_intents_and_counts_the_rest() -> None:
    catalogue = {
        f"twin_{i:02}_{side}": [
            f"question {i} a",
            f"question {i} b",
            f"question {i} c",
            f"question {i} d",
            f"{side} {i} e",
        ]
        for i in range(MAX_NAMED + 5)
        for side in ("left", "right")
    }
    lines = warnings_of(catalogue)
    assert len(lines) == MAX_NAMED + 1
    assert lines[0].startswith("intents `twin_00_left` and `twin_00_right` share 4 examples")
    assert lines[-1] == "and 5 more pairs of intents share examples"


def test_normalised_ignores_case_punctuation_and_spacing() -> None:
    assert normalised("  Where's MY order?! ") == normalised("wheres my order") == "wheres my order"
    assert normalised("?!  ...") == ""
