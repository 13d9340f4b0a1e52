"""The basket served from the cache port (the SQLite-file twin, and Redis): the `baskets`
projection keeps each basket's answer there after every batch that changes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine

from read_side.cache import Cache
from read_side.queries.baskets import NO_BASKET, basket_key, get_basket, to_json
from tests.domain.shop import lines
from tests.read_side.ordering.world import World
from write_side import basket


@pytest.fixture
def no_tables(tmp_path: Path) -> Iterator[Connection]:
    """A connection to an empty database: a query that reaches SQL there fails."""
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def cached(world: World, buyer_id: uuid.UUID) -> bytes | None:
    assert world.cache is not None
    return world.cache.get(basket_key(buyer_id))


def test_the_projection_puts_each_basket_answer_in_the_cache(
    cached_world: World, no_tables: Connection
) -> None:
    world = cached_world
    dune = world.shop.books.create("Dune", "9.99")
    ada = world.shop.buyer()
    world.shop.fill_basket(ada, {dune: 2})

    world.catch_up()

    from_tables = world.ask(get_basket, ada)
    assert from_tables is not None
    assert from_tables.total == Decimal("19.98")
    assert cached(world, ada) == to_json(from_tables)
    # Served from the cache: the empty database is never asked.
    assert get_basket(no_tables, ada, cache=world.cache) == from_tables


def test_a_reprice_rewrites_every_cached_basket_holding_the_book(
    cached_world: World, no_tables: Connection
) -> None:
    world = cached_world
    dune, emma = world.shop.books.create("Dune", "9.99"), world.shop.books.create("Emma", "3.00")
    ada, charles, other = world.shop.buyer(), world.shop.buyer("Charles"), world.shop.buyer("O")
    world.shop.fill_basket(ada, {dune: 1})
    world.shop.fill_basket(charles, {dune: 2, emma: 1})
    world.shop.fill_basket(other, {emma: 1})
    world.catch_up()
    untouched = cached(world, other)

    world.shop.books.change_price(dune, "20.00", discount="15.00")
    world.catch_up()

    adas = get_basket(no_tables, ada, cache=world.cache)
    charles_basket = get_basket(no_tables, charles, cache=world.cache)
    assert adas is not None
    assert charles_basket is not None
    assert [i.unit_price for i in adas.items] == [Decimal("15.00")]
    assert charles_basket.total == Decimal("33.00")
    assert cached(world, other) == untouched
    assert cached(world, ada) == to_json(world.ask(get_basket, ada))


def test_a_closed_basket_is_cached_as_none(cached_world: World, no_tables: Connection) -> None:
    world = cached_world
    dune = world.shop.books.create()
    ada = world.shop.buyer()
    world.shop.fill_basket(ada, {dune: 1})
    world.catch_up()
    assert get_basket(no_tables, ada, cache=world.cache) is not None

    world.shop.send(
        basket.CheckoutBasket(buyer_id=ada, order_id=uuid.uuid4(), items=lines({dune: 1}))
    )
    world.catch_up()

    assert cached(world, ada) == NO_BASKET
    assert get_basket(no_tables, ada, cache=world.cache) is None


def test_a_miss_falls_back_to_the_tables(cached_world: World, cache: Cache) -> None:
    world = cached_world
    dune = world.shop.books.create()
    ada = world.shop.buyer()
    world.shop.fill_basket(ada, {dune: 3})
    world.catch_up()
    expected = world.ask(get_basket, ada)

    cache.delete(basket_key(ada))

    assert world.ask(get_basket, ada, cache=cache) == expected
    assert cached(world, ada) is None  # only the projection fills the cache


def test_a_rebuild_leaves_the_cache_alone(cached_world: World, cache: Cache) -> None:
    world = cached_world
    dune = world.shop.books.create()
    ada, charles = world.shop.buyer(), world.shop.buyer("Charles")
    world.shop.fill_basket(ada, {dune: 1})
    world.shop.fill_basket(charles, {dune: 1})
    world.catch_up()
    kept = cached(world, ada)
    cache.delete(basket_key(charles))

    world.rebuild()

    assert cached(world, ada) == kept
    assert cached(world, charles) is None
    assert world.ask(get_basket, charles, cache=cache) is not None
