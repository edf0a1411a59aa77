"""Tables that fit the width they are given, without ever splitting an id across lines.

A column may give up room down to a width (its text is then cut with "…" on one line, or
folded onto more lines) or be left out entirely; the ``shrink`` / ``drop`` ranks say in which
order (lower goes first), and a droppable column that is empty on every row goes before any
other. Columns that can do neither keep their natural width. This is how ``runs`` and ``jobs``
stay readable at 80 columns with long job ids, and use the room a wide terminal gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

GAP = 2  # the space rich puts between two columns (padding 1 on each side)
EMPTY = ("", "-", "?")


@dataclass(frozen=True)
class Col:
    name: str
    right: bool = False  # numbers
    # (rank, width): at that rank the column gives up room down to that width; several
    # stages let a column keep some room until others have given theirs. Empty: never cut.
    shrink: tuple[tuple[int, int], ...] = ()
    drop: int | None = None  # the rank at which the column is left out
    fold: bool = False  # wrap onto more lines instead of cutting (free text only)


def _width(text: str) -> int:
    from rich.text import Text

    return Text.from_markup(text).cell_len


def fit(columns: Sequence[Col], rows: Sequence[Sequence[str]], width: int) -> Table:
    """A house-style table of ``rows`` (rich markup cells) no wider than ``width``."""
    from sigilctl.cli import output

    natural = [
        max([_width(col.name), *(_width(row[i]) for row in rows)]) for i, col in enumerate(columns)
    ]
    widths = list(natural)
    kept = list(range(len(columns)))

    def total() -> int:
        return sum(widths[i] for i in kept) + GAP * (len(kept) - 1)

    steps: list[tuple[int, int, int]] = []  # (rank, column, floor); floor -1: drop
    for i, col in enumerate(columns):
        steps.extend((rank, i, floor) for rank, floor in col.shrink)
        if col.drop is not None:
            # A droppable column with nothing to say on any row goes first.
            empty = all(row[i] in EMPTY for row in rows)
            steps.append((-1 if empty else col.drop, i, -1))
    for _, i, floor in sorted(steps):
        excess = total() - width
        if excess <= 0:
            break
        if i not in kept:
            continue
        if floor < 0:
            kept.remove(i)
        else:
            widths[i] = max(min(floor, widths[i]), widths[i] - excess)
    table = output.table(*(columns[i].name for i in kept))
    for column, i in zip(table.columns, kept, strict=True):
        spec = columns[i]
        column.justify = "right" if spec.right else "left"
        column.width = widths[i]
        column.no_wrap = not spec.fold
        column.overflow = "fold" if spec.fold else "ellipsis"
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    return table
