"""The traffic simulator's words: people's names, book texts, prices and ratings."""

from __future__ import annotations

import random
import statistics
from decimal import Decimal

import pytest

from api.simulator.genres import Genre
from api.simulator.genres_nonfiction import BUSINESS, COOKING, GENRES
from api.simulator.people import FIRST_NAMES, LAST_NAMES, people
from api.simulator.writing import (
    DESCRIPTION_MAX,
    NAME_MAX,
    book_text,
    comment,
    discount_for,
    list_price,
    rating,
)


def test_people_have_distinct_names_beyond_the_single_last_names() -> None:
    """Every (first, last) pair is unique, also once double-barrelled names are needed."""
    count = len(FIRST_NAMES) * len(LAST_NAMES) + 500
    crowd = people(random.Random(1), count)

    assert len(crowd) == len(set(crowd)) == count
    assert sum("-" in person.last for person in crowd) >= 500
    assert people(random.Random(1), 50) == people(random.Random(1), 50)


@pytest.mark.parametrize("genre", GENRES, ids=lambda genre: genre.name)
def test_book_texts_fit_the_catalog_and_speak_the_genre(genre: Genre) -> None:
    """Names ≤ 50 and blurbs ≤ 500 characters, fully written, in the genre's own words."""
    vocabulary = {
        word.lower() for word in (*genre.nouns, *genre.places, *genre.topics, *genre.adjectives)
    }
    rng = random.Random(5)
    for _ in range(300):
        text = book_text(genre, rng)
        assert 0 < len(text.name) <= NAME_MAX
        assert 0 < len(text.description) <= DESCRIPTION_MAX
        assert "{" not in text.name + text.description
        written = f"{text.name} {text.description}".lower()
        assert any(word in written for word in vocabulary)


def test_prices_and_discounts_are_money_within_the_rules() -> None:
    """Prices in the genre's range with two places; a discount is above 0 and below the price."""
    rng = random.Random(3)
    for genre in GENRES:
        for _ in range(200):
            price = list_price(genre, rng)
            discount = discount_for(price, rng)
            assert genre.price[0] <= price < genre.price[1] + 1
            assert price == price.quantize(Decimal("0.01"))
            assert Decimal(0) < discount < price


def test_ratings_depend_on_the_genre_and_stay_in_range() -> None:
    """Cookbooks are rated higher than business books, every rating is 0..5."""
    rng = random.Random(9)
    cooking = [rating(COOKING, 0.0, rng) for _ in range(2000)]
    business = [rating(BUSINESS, 0.0, rng) for _ in range(2000)]

    assert set(cooking) | set(business) <= set(range(6))
    assert statistics.mean(cooking) > statistics.mean(business) + 0.5
    assert all(len(comment(COOKING, 5, {}, rng)) <= 1000 for _ in range(100))
