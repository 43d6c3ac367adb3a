"""Row ids in URLs: only numbers a row can have reach a view, so any other is not found."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map, ValidationError

# Every table's id is an INTEGER column (32 bits signed on PostgreSQL).
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """`<id:name>`: a larger number (2**63, a thousand digits) is a 404, never a query the
    database or the digit limit of int() refuses with a 500."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, max=MAX_ROW_ID)

    def to_python(self, value: str) -> Any:
        if len(value) > len(str(MAX_ROW_ID)):
            raise ValidationError()
        return super().to_python(value)


def row_id(value: str) -> int | None:
    """A posted id as a number a row can have, or None."""
    if not value.isdigit() or len(value) > len(str(MAX_ROW_ID)) or int(value) > MAX_ROW_ID:
        return None
    return int(value)
