"""Logging in by username or phone number, and staying logged in on that phone."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models.people import LoginLocked, Person, authenticate
from webapp import db
from webapp.i18n import LANG_COOKIE, SUPPORTED, translate

bp = Blueprint("auth", __name__, template_folder="templates")
login_manager = LoginManager()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in first.")
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_person(person_id: str) -> Person | None:
    if not person_id.isdigit():
        return None
    person = db.session().get(Person, int(person_id))
    return person if person is not None and person.active else None


class LoginForm(FlaskForm):
    login = StringField(
        _l("Phone number or username"),
        validators=[DataRequired(_l("Enter your phone number or username.")), Length(max=64)],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)]
    )
    next = HiddenField()


def safe_next(target: str | None) -> str:
    """Only paths on this site, so a crafted link cannot send someone elsewhere."""
    if (
        target
        and target.startswith("/")
        and not any(ch <= " " or ch == "\\" for ch in target)
        and not urlsplit(target).netloc
        and not target.startswith("//")
    ):
        return target
    return url_for("records.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(safe_next(form.next.data))
    if form.validate_on_submit():
        try:
            person = authenticate(
                db.session(), form.login.data or "", form.password.data or "", now=db.clock().now()
            )
        except LoginLocked as locked:
            form.password.errors = [translate(locked.message)]
            return render_template("auth/login.html", form=form, days=_days()), 429
        if person is not None:
            session.permanent = True
            login_user(person, remember=True)
            return redirect(safe_next(form.next.data))
        form.password.errors = [_l("Wrong phone number, username or password.")]
        # The failed attempt is counted: keep it although the answer is an error.
        db.session().commit()
        return render_template("auth/login.html", form=form, days=_days()), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, days=_days()), status


def _days() -> int:
    return db.settings().server.remember_days


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))


class LanguageForm(FlaskForm):
    lang = HiddenField()
    next = HiddenField()


@bp.post("/language")
def set_language() -> Response:
    """Remember the chosen language on this phone, and for the person when logged in."""
    form = LanguageForm()
    lang = form.lang.data if form.validate_on_submit() and form.lang.data in SUPPORTED else None
    response = redirect(safe_next(form.next.data))
    if lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
        if current_user.is_authenticated:
            current_user.locale = lang
    return response
