"""The platform's projections, by name: what the worker runs and operators rebuild."""

from __future__ import annotations

from read_side.cache import Cache
from read_side.projection import Projection
from read_side.projections.baskets import BasketsProjection
from read_side.projections.buyers import BuyersProjection
from read_side.projections.catalog_books import BookCatalogProjection
from read_side.projections.catalog_references import (
    AuthorsProjection,
    CategoriesProjection,
    PublishersProjection,
)
from read_side.projections.due_timers import DueTimers
from read_side.projections.emails import EmailsProjection
from read_side.projections.event_counts import EventCounts
from read_side.projections.feedbacks import FeedbacksProjection
from read_side.projections.order_sagas import OrderSagasProjection
from read_side.projections.ordering import OrderHistoryProjection
from write_side.domain import KeyStore


def all_projections(
    *, keys: KeyStore | None = None, cache: Cache | None = None
) -> dict[str, Projection]:  # type: ignore[type-arg]
    """A fresh instance of every projection, by name.

    `keys` opens personal data (buyers, orders): needed to run those, not to list them;
    `cache` is where projections keep cached answers (baskets) or evict them.
    """
    found: list[Projection] = [  # type: ignore[type-arg]
        EventCounts(),
        DueTimers(),
        BuyersProjection(keys),
        OrderHistoryProjection(keys),
        BasketsProjection(cache),
        OrderSagasProjection(),
        EmailsProjection(),
        BookCatalogProjection(cache),
        AuthorsProjection(),
        CategoriesProjection(),
        PublishersProjection(),
        FeedbacksProjection(),
    ]
    return {p.name: p for p in found}
