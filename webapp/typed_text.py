"""What people typed, as the views read it: form fields and query values without NUL
characters. Nobody types one; PostgreSQL stores no text holding one (an error where SQLite
took it), so a prober's NUL would otherwise be a server error in any field that is saved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

NUL = "\x00"


def _pairs(values: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> list[tuple[str, Any]]:
    if values is None:
        return []
    if isinstance(values, MultiDict):
        return list(values.items(multi=True))
    if isinstance(values, Mapping):
        return [
            (key, one)
            for key, value in values.items()
            for one in (value if isinstance(value, list | tuple) else [value])
        ]
    return list(values)


def _clean(value: Any) -> Any:
    return value.replace(NUL, "") if isinstance(value, str) else value


class WithoutNul(ImmutableMultiDict[str, Any]):
    """The request's fields (its form's and its query's) with every NUL character taken out."""

    def __init__(self, values: Any = None) -> None:
        super().__init__([(_clean(key), _clean(value)) for key, value in _pairs(values)])


class TypedTextRequest(Request):
    parameter_storage_class = WithoutNul
