"""The redaction benchmark's data: Presidio's synthetic PII sentences and order-number negatives.

``presidio.jsonl``: the sentences of microsoft/presidio-research (MIT) ``data/synth_dataset_v2
.json`` and ``tests/data/generated_large.json``, Faker-generated text with typed spans. Each
line is ``{"source", "text", "spans": [[kind, start, end], ...]}``; the kinds redaction masks
are renamed (:data:`KINDS`), every other type is kept as ``other:<TYPE>`` so that masking a
date or a ZIP code shows up as a false positive.

``negatives.jsonl``: made here (seed ``SEED``), sentences a shop's customers write with order
numbers, longer ids, prices, dates, postcodes and quantities and no personal data at all:
anything masked in them is a false positive.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIRROR = Path("/work/.mirror/microsoft+presidio-research/repo")  # presidio-research (MIT)
SOURCES = ("data/synth_dataset_v2.json", "tests/data/generated_large.json")
DATA = Path(__file__).resolve().parent / "data" / "pii"
KINDS = {
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
}
SEED = 23
NEGATIVES = 400

NEGATIVE_TEMPLATES = (
    "Where is my order {order}? It was due on {date}.",
    "Order #{order} arrived with {qty} items missing, I paid {price}.",
    "I'd like to return order {order}, the {qty} jumpers cost {price} each.",
    "my order number is {order} and the postcode is {postcode}",
    "ORD-{order} hasn't shipped since {date}, delivery to {postcode}",
    "Tracking number {tracking} for order {order}, can you check it?",
    "Hi, order no. {order}: I was charged {price} twice on {date}.",
    "I ordered {qty} pairs of socks ({order}) on {date}, total {price}",
    "Refund for {order} please, {price} back to my card",
    "Reference {longid}, invoice {order}, due {date}",
    "The order id is {longid} and it says {qty} x merino beanie at {price}",
    "order:{order} ship to {postcode}, {qty} boxes",
    "Can I change the size on {order}? Delivery by {date} to {postcode}.",
    "Customer id {longid}, order {order} ({qty} items, {price})",
    "I got order {order} and order {order2} mixed up, both on {date}",
)
UK_POSTCODES = ("SW1A 1AA", "EC1A 1BB", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT")
OTHER_POSTCODES = ("10115 Berlin", "75008 Paris", "1012 AB Amsterdam", "90210", "02139", "D02 X285")


@dataclass(frozen=True)
class Sample:
    """One sentence and its labelled spans ``(kind, start, end)``."""

    source: str
    text: str
    spans: tuple[tuple[str, int, int], ...]


def convert(source: str, raw: str) -> list[Sample]:
    """Presidio's JSON (a list of ``{full_text, spans: [{entity_type, start_position,
    end_position}]}``) as samples, span kinds renamed."""
    samples = []
    for record in json.loads(raw):
        spans = tuple(
            sorted(
                (
                    (_kind(span["entity_type"]), span["start_position"], span["end_position"])
                    for span in record["spans"]
                ),
                key=lambda span: span[1:],
            )
        )
        samples.append(Sample(source, record["full_text"], spans))
    return samples


def _kind(entity_type: str) -> str:
    return KINDS.get(entity_type, f"other:{entity_type}")


def negatives(count: int = NEGATIVES, seed: int = SEED) -> list[Sample]:
    """``count`` sentences with order numbers, ids, prices, dates, postcodes, quantities."""
    rng = random.Random(seed)
    return [
        Sample("negatives", rng.choice(NEGATIVE_TEMPLATES).format(**_values(rng)), ())
        for _ in range(count)
    ]


def _values(rng: random.Random) -> dict[str, str]:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2023, 2026)
    dates = (
        f"{day:02d}/{month:02d}/{year}",
        f"{year}-{month:02d}-{day:02d}",
        f"{day}.{month}.{year}",
        f"{day} March {year}",
    )
    prices = (
        f"£{rng.randint(5, 400)}.{rng.randint(0, 99):02d}",
        f"${rng.randint(1, 2000):,}",
        f"{rng.randint(5, 90)},{rng.randint(0, 99):02d} €",
        f"{rng.randint(1000, 9999)} GBP",
    )
    return {
        "order": str(rng.randint(100_000, 999_999) if rng.random() < 0.8 else _digits(rng, 10)),
        "order2": str(rng.randint(100_000, 999_999)),
        "longid": _digits(rng, rng.randint(11, 19)),
        "tracking": _digits(rng, rng.choice((12, 18, 20, 22))),
        "date": rng.choice(dates),
        "price": rng.choice(prices),
        "qty": str(rng.randint(1, 12)),
        "postcode": rng.choice(UK_POSTCODES + OTHER_POSTCODES),
    }


def _digits(rng: random.Random, length: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(length - 1))


def write(samples: Iterable[Sample], path: Path) -> int:
    """Write ``samples`` as JSON lines; how many."""
    lines = [
        json.dumps({"source": s.source, "text": s.text, "spans": [list(x) for x in s.spans]})
        for s in samples
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def load(path: Path) -> list[Sample]:
    """Samples written by :func:`write`."""
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record: dict[str, Any] = json.loads(line)
        spans = tuple((str(k), int(s), int(e)) for k, s, e in record["spans"])
        samples.append(Sample(str(record["source"]), str(record["text"]), spans))
    return samples


def prepare(mirror: Path = MIRROR, folder: Path = DATA) -> dict[str, int]:
    """Convert the public set from the presidio-research mirror and make the negatives."""
    public: list[Sample] = []
    for source in SOURCES:
        raw = subprocess.run(  # noqa: S603 - git on a fixed mirror path
            ["git", "-C", str(mirror), "show", f"HEAD:{source}"],  # noqa: S607
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        public += convert(source, raw)
    return {
        "presidio": write(public, folder / "presidio.jsonl"),
        "negatives": write(negatives(), folder / "negatives.jsonl"),
    }


if __name__ == "__main__":
    print(prepare())
