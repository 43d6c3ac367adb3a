"""One page of a list that can grow: the rows asked for and how many there are in all.

Lists page in the query (limit and offset, and one count), never by loading every row. A page
number past the end shows the last page; a junk one, the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

PAGE_SIZE = 20  # rows a phone shows without endless scrolling


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    number: int = 1
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        """The position of the page's first row in the whole list, from 1 (0 when empty)."""
        return (self.number - 1) * self.size + 1 if self.items else 0


def clamp(number: Any, total: int, size: int = PAGE_SIZE) -> int:
    """A page number that exists for `total` rows."""
    try:
        wanted = int(number)
    except (TypeError, ValueError):
        wanted = 1
    pages = max(1, -(-total // size))
    return min(max(wanted, 1), pages)


def count(session: Session, query: Select[Any]) -> int:
    """How many rows a query gives, without loading them."""
    inner = query.order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(inner)) or 0


def page_of(
    session: Session, query: Select[Any], number: Any = 1, size: int = PAGE_SIZE
) -> Page[Any]:
    """One page of an ordered query of entities (or rows, when it selects several columns)."""
    total = count(session, query)
    number = clamp(number, total, size)
    limited = query.limit(size).offset((number - 1) * size)
    if len(query.column_descriptions) == 1:
        items: list[Any] = list(session.scalars(limited))
    else:
        items = [tuple(row) for row in session.execute(limited)]
    return Page(items, total, number, size)


def page_of_list(items: list[T], number: Any = 1, size: int = PAGE_SIZE) -> Page[T]:
    """One page of a list already computed (a register whose status is worked out per row)."""
    number = clamp(number, len(items), size)
    return Page(items[(number - 1) * size : number * size], len(items), number, size)
