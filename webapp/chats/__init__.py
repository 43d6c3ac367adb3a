"""Linking a person's Telegram chat: a one-time code to send the bot, and unlinking."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from channels.telegram.chats import chat_of, unlink_chat
from models.linking import LINK_CODE_LIFETIME, new_link_code
from webapp import db

bp = Blueprint("chats", __name__, template_folder="templates")


class PostForm(FlaskForm):
    """Only the CSRF token."""


def _page(code: str = "", status: int = 200) -> tuple[str, int]:
    settings = db.settings()
    username = settings.telegram.bot_username.lstrip("@")
    page = render_template(
        "chats/telegram.html",
        link=chat_of(db.session(), current_user),
        code=code,
        bot_username=username,
        start_link=f"https://t.me/{username}?start={code}" if username and code else "",
        minutes=int(LINK_CODE_LIFETIME.total_seconds() // 60),
        configured=bool(settings.telegram.token),
        form=PostForm(),
    )
    return page, status


@bp.get("/telegram")
@login_required
def show() -> tuple[str, int]:
    return _page()


@bp.post("/telegram/code")
@login_required
def make_code() -> tuple[str, int]:
    if not PostForm().validate_on_submit():
        abort(400)
    code = new_link_code(db.session(), current_user, now=db.clock().now())
    return _page(code.code)


@bp.post("/telegram/unlink")
@login_required
def unlink() -> Response:
    if not PostForm().validate_on_submit():
        abort(400)
    if unlink_chat(db.session(), person=current_user, now=db.clock().now()) is not None:
        flash(gettext("Telegram is unlinked. Notices stay in Houqin's inbox."), "success")
    return redirect(url_for("chats.show"))
