"""The command line's tables: a narrow terminal folds a value, never cuts it short."""

from __future__ import annotations

import io

from rich.console import Console

from api.console import counted, listing

STREAM = "ordersaga-f5679415-7bf7-52cf-b998-18c4d36f4d7f"
GROUP = "catalog_rating_update"


def rendered(width: int) -> list[list[str]]:
    """The body rows of a group-and-stream table at `width` columns, as cells per line."""
    table = listing("group", "stream", "position", "checkpoint", "acked", "retries (max)")
    table.add_row(GROUP, STREAM, "1234567890", "1234567000", "31220", "0 (0)")
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(table)
    lines = [line for line in buffer.getvalue().splitlines() if line.startswith("│")]
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]


def test_a_narrow_table_folds_every_value_whole() -> None:
    lines = rendered(60)
    assert len(lines) > 1  # it did have to fold
    columns = ["".join(parts) for parts in zip(*lines, strict=True)]
    assert columns == [GROUP, STREAM, "1234567890", "1234567000", "31220", "0 (0)"]
    assert not any("…" in cell for line in lines for cell in line)


def test_a_wide_table_keeps_each_row_on_one_line() -> None:
    assert rendered(200) == [[GROUP, STREAM, "1234567890", "1234567000", "31220", "0 (0)"]]


def test_a_count_says_its_noun_in_the_plural_unless_it_is_one() -> None:
    assert [counted(n, "timer") for n in (0, 1, 2, 7_900)] == [
        "0 timers",
        "1 timer",
        "2 timers",
        "7,900 timers",
    ]
