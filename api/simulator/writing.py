"""Book titles, blurbs, prices, ratings and review comments, written in each genre's vocabulary."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from api.simulator.genres import Genre
from api.simulator.people import FIRST_NAMES

#: The catalog's limits on a book's name and description (DOMAIN.md).
NAME_MAX = 50
DESCRIPTION_MAX = 500
COMMENT_MAX = 1000

_CENT = Decimal("0.01")
_GENERIC_PRAISE = (
    "Arrived quickly and well packed.",
    "Bought it as a gift and ended up reading it first.",
    "Already ordered a second copy for a friend.",
)
_GENERIC_CRITIQUE = (
    "The print is tiny and the binding cracked.",
    "Not what the blurb promised.",
    "I wanted to like it more than I did.",
)
_MIXED = (
    "Good, not great.",
    "Some strong chapters and some weak ones.",
    "Worth reading once.",
    "Fine for a long flight.",
)


@dataclass(frozen=True, slots=True)
class BookText:
    """What a book says about itself: its name, its blurb and the words they were made from."""

    name: str
    description: str
    slots: dict[str, str]


def _slots(genre: Genre, rng: random.Random) -> dict[str, str]:
    adjective, noun = rng.choice(genre.adjectives), rng.choice(genre.nouns)
    return {
        "adj": adjective,
        "adj_l": adjective.lower(),
        "a_adj": f"{'An' if adjective[0] in 'AEIOU' else 'A'} {adjective}",
        "noun": noun,
        "noun_l": noun.lower(),
        "place": rng.choice(genre.places),
        "hero": rng.choice(genre.heroes),
        "topic": rng.choice(genre.topics),
        "name": rng.choice(FIRST_NAMES),
    }


def _sentence(template: str, slots: dict[str, str]) -> str:
    text = template.format(**slots)
    return text[0].upper() + text[1:]


def book_text(genre: Genre, rng: random.Random) -> BookText:
    """A title and a blurb of two or three sentences in the genre's vocabulary."""
    slots = _slots(genre, rng)
    name = _sentence(rng.choice(genre.titles), slots)
    if len(name) > NAME_MAX:
        name = _sentence("The {adj} {noun}", slots)
    parts = [
        _sentence(rng.choice(genre.openings), slots),
        _sentence(rng.choice(genre.middles), slots),
        _sentence(rng.choice(genre.closings), slots),
    ]
    description = " ".join(parts)
    while len(description) > DESCRIPTION_MAX:
        parts.pop()
        description = " ".join(parts)
    return BookText(name=name, description=description, slots=slots)


def revised_description(text: BookText, genre: Genre, rng: random.Random) -> str:
    """The blurb of a new edition: the same opening, a new closing."""
    slots = text.slots
    first = text.description.split(". ", 1)[0].rstrip(".") + "."
    closing = _sentence(rng.choice(genre.closings), slots)
    return f"{first} {closing} New edition with an afterword by the author."[:DESCRIPTION_MAX]


def list_price(genre: Genre, rng: random.Random) -> Decimal:
    """A shelf price in the genre's range, ending in .99, .49 or .00."""
    whole = rng.randint(*genre.price)
    return Decimal(whole) + Decimal(rng.choice(("0.99", "0.99", "0.49", "0.00")))


def discount_for(price: Decimal, rng: random.Random) -> Decimal:
    """A discount price 10 to 40 percent off, ending in .99 or .49 where it can (below the
    price, above zero)."""
    target = int(price * Decimal(rng.choice(("0.9", "0.85", "0.8", "0.75", "0.7", "0.6"))))
    for cents in (Decimal("0.99"), Decimal("0.49"), Decimal("0.00")):
        candidate = Decimal(target) + cents
        if Decimal(0) < candidate < price:
            return candidate
    return (price / 2).quantize(_CENT)


def rating(genre: Genre, quality: float, rng: random.Random) -> int:
    """A reader's rating 0..5 around the genre's mean, moved by the book's own quality."""
    return max(0, min(5, round(rng.gauss(genre.rating_mean + quality, 0.9))))


def comment(genre: Genre, stars: int, slots: dict[str, str], rng: random.Random) -> str:
    """A review comment matching the rating (empty now and then: many readers only rate)."""
    if rng.random() < 0.25:
        return ""
    if stars >= 4:
        pool = (*genre.praise, *_GENERIC_PRAISE)
    elif stars <= 2:
        pool = (*genre.critique, *_GENERIC_CRITIQUE)
    else:
        pool = (*_MIXED, rng.choice(genre.praise), rng.choice(genre.critique))
    sentences = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2))))
    return " ".join(_sentence(s, slots) for s in sentences)[:COMMENT_MAX]
