"""Contract: groups are created, changed, listed, inspected and deleted as EventStoreDB's are."""

from __future__ import annotations

import pytest

from tests.contracts.groups import append, nothing_more, receive_all, requires_groups
from tests.contracts.helpers import Names, events
from write_side.eventstore import Capability, EventFilter, EventStore
from write_side.groups import (
    GroupAlreadyExists,
    GroupNotFound,
    GroupSettings,
    MaximumSubscribersReached,
    SubscriptionGroups,
)


def test_a_new_group_shows_its_definition_and_no_activity(
    groups: SubscriptionGroups, group_name: str
) -> None:
    """Given a group created with settings, its info and the list say what was asked."""
    settings = GroupSettings(message_timeout=5.0, max_retry_count=3, consumer_strategy="RoundRobin")
    only_books = EventFilter.stream_prefixes("book-")
    groups.create_subscription_to_all(group_name, filter=only_books, settings=settings)

    info = groups.get_subscription_info(group_name)

    assert (info.group_name, info.stream_name, info.event_source) == (group_name, None, "$all")
    assert info.settings == settings
    assert (info.in_flight, info.waiting, info.parked, info.delivered_total) == (0, 0, 0, 0)
    assert info.consumers == ()
    assert info.parked_stream == f"$persistentsubscription-$all::{group_name}-parked"
    assert group_name in [i.group_name for i in groups.list_subscriptions()]
    requires_groups(groups, Capability.FULL_GROUP_INFO)
    assert info.filter == only_books


def test_a_name_is_taken_once_per_source(
    groups: SubscriptionGroups, group_name: str, stream: Names
) -> None:
    """Creating a group twice fails; the same name on a stream is another group."""
    groups.create_subscription_to_all(group_name)
    with pytest.raises(GroupAlreadyExists):
        groups.create_subscription_to_all(group_name)
    on_stream = stream("order")
    groups.create_subscription_to_stream(group_name, on_stream)
    with pytest.raises(GroupAlreadyExists):
        groups.create_subscription_to_stream(group_name, on_stream)

    sources = {i.event_source for i in groups.list_subscriptions() if i.group_name == group_name}
    assert sources == {"$all", on_stream}
    assert groups.get_subscription_info(group_name, on_stream).stream_name == on_stream


def test_update_changes_settings_and_unknown_groups_are_errors(
    groups: SubscriptionGroups, group_name: str, stream: Names
) -> None:
    """Update replaces settings; update, info, read, replay and delete of no group fail."""
    groups.create_subscription_to_all(group_name)
    changed = GroupSettings(max_retry_count=1, message_timeout=3.0)
    groups.update_subscription_to_all(group_name, settings=changed)
    assert groups.get_subscription_info(group_name).settings == changed

    missing = f"{group_name}_missing"
    with pytest.raises(GroupNotFound):
        groups.update_subscription_to_all(missing, settings=changed)
    with pytest.raises(GroupNotFound):
        groups.update_subscription_to_stream(group_name, stream("x"), settings=changed)
    with pytest.raises(GroupNotFound):
        groups.get_subscription_info(missing)
    with pytest.raises(GroupNotFound):
        groups.read_subscription_to_all(missing)
    with pytest.raises(GroupNotFound):
        groups.replay_parked_events(missing)
    with pytest.raises(GroupNotFound):
        groups.delete_subscription(missing)


def test_a_deleted_group_is_gone_for_its_consumers_too(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """After delete, info fails, a connected consumer's read fails, and the name is free."""
    groups.create_subscription_to_all(group_name, filter=EventFilter.stream_prefixes("nothing-"))
    consumer = groups.read_subscription_to_all(group_name)
    nothing_more(consumer, 0.1)

    groups.delete_subscription(group_name)

    with pytest.raises(GroupNotFound):
        groups.get_subscription_info(group_name)
    append(event_store, stream("nothing"), 1)
    with pytest.raises(GroupNotFound):
        consumer.receive(5.0)
    consumer.stop()
    groups.create_subscription_to_all(group_name)
    assert groups.get_subscription_info(group_name).delivered_total == 0


def test_start_from_the_start_the_end_or_a_position_inclusive(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """A group from the start gets history, from the end only what follows, and from a commit
    position that event (inclusive, unlike a catch-up subscription) and what follows."""
    mine = stream("start")
    first = append(event_store, mine, 3)
    only_mine = EventFilter.stream_prefixes(mine)
    groups.create_subscription_to_all(f"{group_name}_s", filter=only_mine)
    groups.create_subscription_to_all(f"{group_name}_e", filter=only_mine, from_end=True)
    groups.create_subscription_to_all(f"{group_name}_p", filter=only_mine, commit_position=first[1])
    later = event_store.append(mine, events(1), expected_version=2)

    with groups.read_subscription_to_all(f"{group_name}_s") as from_start:
        assert [d.event.position for d in receive_all(from_start, 4)] == [*first, later]
    with groups.read_subscription_to_all(f"{group_name}_e") as from_end:
        assert [d.event.position for d in receive_all(from_end, 1)] == [later]
        nothing_more(from_end, 0.2)
    with groups.read_subscription_to_all(f"{group_name}_p") as from_position:
        assert [d.event.position for d in receive_all(from_position, 3)] == [*first[1:], later]
    assert groups.get_subscription_info(f"{group_name}_e").from_end


def test_a_stream_group_delivers_its_stream_from_a_revision(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """A group on a stream that does not exist yet gets its events once written, in order;
    one from revision 2 starts there (inclusive); other streams never show up."""
    orders = stream("order")
    groups.create_subscription_to_stream(group_name, orders)
    groups.create_subscription_to_stream(f"{group_name}_2", orders, stream_position=2)
    append(event_store, stream("other"), 2)
    append(event_store, orders, 4)

    with groups.read_subscription_to_stream(group_name, orders) as consumer:
        delivered = receive_all(consumer, 4)
        nothing_more(consumer, 0.2)
    with groups.read_subscription_to_stream(f"{group_name}_2", orders) as consumer:
        from_two = receive_all(consumer, 2)

    assert [(d.event.stream, d.event.revision) for d in delivered] == [
        (orders, r) for r in range(4)
    ]
    assert [d.event.revision for d in from_two] == [2, 3]
    info = groups.get_subscription_info(group_name, orders)
    assert (info.last_read_position, info.last_known_position) == (3, 3)
    requires_groups(groups, Capability.FULL_GROUP_INFO)
    assert info.acked_total == 4


def test_a_filter_and_the_system_streams_narrow_an_all_group(
    groups: SubscriptionGroups, event_store: EventStore, group_name: str, stream: Names
) -> None:
    """A group on `$all` with an event-type filter gets only those types, and never events of
    system or snapshot streams."""
    tag = stream("t")
    append(event_store, f"book{tag}", 2, type=f"Listed{tag}")
    append(event_store, f"book{tag}-b", 1, type=f"Priced{tag}")
    append(event_store, f"snapshot-book{tag}", 1, type=f"Listed{tag}")
    groups.create_subscription_to_all(group_name, filter=EventFilter.event_types(f"Listed{tag}"))

    with groups.read_subscription_to_all(group_name) as consumer:
        delivered = receive_all(consumer, 2)
        nothing_more(consumer, 0.3)

    assert {d.event.type for d in delivered} == {f"Listed{tag}"}
    assert {d.event.stream for d in delivered} == {f"book{tag}"}


def test_at_most_max_subscriber_count_consumers(
    groups: SubscriptionGroups, group_name: str
) -> None:
    """With room for two consumers, a third is refused until one of the two leaves."""
    groups.create_subscription_to_all(group_name, settings=GroupSettings(max_subscriber_count=2))
    first = groups.read_subscription_to_all(group_name)
    second = groups.read_subscription_to_all(group_name)
    with pytest.raises(MaximumSubscribersReached):
        groups.read_subscription_to_all(group_name)
    assert len(groups.get_subscription_info(group_name).consumers) == 2

    first.stop()
    third = groups.read_subscription_to_all(group_name)
    assert {c.name for c in groups.get_subscription_info(group_name).consumers} == {
        second.consumer_name,
        third.consumer_name,
    }
    second.stop()
    third.stop()
    assert groups.get_subscription_info(group_name).consumers == ()


@pytest.mark.parametrize(
    "bad",
    [
        {"message_timeout": 0},
        {"max_retry_count": -1},
        {"consumer_strategy": "Pinned"},
        {"min_checkpoint_count": 10, "max_checkpoint_count": 5},
        {"read_batch_size": 0},
    ],
)
def test_settings_out_of_range_are_refused(bad: dict[str, object]) -> None:
    """Settings are checked when made, not when a group first misbehaves."""
    with pytest.raises(ValueError):
        GroupSettings(**bad)  # type: ignore[arg-type]


def test_a_consumer_receives_nothing_from_an_idle_group(
    groups: SubscriptionGroups, group_name: str
) -> None:
    """A group with nothing to deliver makes `receive` wait, then answer None."""
    groups.create_subscription_to_all(group_name, from_end=True)
    with groups.read_subscription_to_all(group_name) as consumer:
        nothing_more(consumer, 0.2)
        assert groups.get_subscription_info(group_name).consumers[0].name == (
            consumer.consumer_name
        )
