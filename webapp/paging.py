"""Paging in templates: a link to another page of the list shown, keeping its filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, request

from models.paging import Page


def page_url(number: int) -> str:
    """This page's address with another page number; every other query argument is kept."""
    args: list[tuple[str, Any]] = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    return f"{request.script_root}{request.path}?{urlencode([*args, ('page', str(number))])}"


def requested_page() -> str:
    """The page number asked for, as given: the domain turns junk into a page that exists."""
    return request.args.get("page", "1")


def init_app(app: Flask) -> None:
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["Page"] = Page
