"""Paging in templates: a link to another page of the list shown, keeping its filters."""

from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for

from models.paging import Page


def page_url(number: int) -> str:
    """This page's address with another page number; every other query argument is kept."""
    args: dict[str, Any] = request.args.to_dict(flat=False)
    args["page"] = [str(number)]
    return url_for(request.endpoint or "", **(request.view_args or {}), **args)


def requested_page() -> str:
    """The page number asked for, as given: the domain turns junk into a page that exists."""
    return request.args.get("page", "1")


def init_app(app: Flask) -> None:
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["Page"] = Page
