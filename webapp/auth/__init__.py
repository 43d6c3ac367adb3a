"""Logging in by username or phone number, and staying logged in on that phone."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import (
    LoginManager,
    current_user,
    login_required,
    login_url,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models.login_sessions import (
    LoginSession,
    LoginSessionNotFound,
    device_of,
    due_to_be_seen,
    end_all_sessions,
    end_own_session,
    end_session,
    mark_seen,
    session_for_token,
    sessions_of,
    start_session,
)
from models.messages import DomainError, SubmissionInvalid
from models.passwords import check_password_change, save_password_change
from models.people import (
    LoginLocked,
    LoginSource,
    Person,
    check_login,
    record_login,
    set_locale,
)
from webapp import db, drafts
from webapp.i18n import LANG_COOKIE, SUPPORTED, translate

bp = Blueprint("auth", __name__, template_folder="templates")
login_manager = LoginManager()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in first.")
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_password_first)


def _unauthorized() -> Response:
    """To the login, and back afterwards; a checklist sent logged out comes back filled in."""
    flash(login_manager.login_message)
    target = drafts.back_to(request) or request.url
    return redirect(login_url(login_manager.login_view, next_url=target))


# While a one-time password is in use, only choosing one's own (or leaving) is open.
OPEN_WITH_ONE_TIME_PASSWORD = {"auth.change_password", "auth.logout", "auth.set_language", "static"}


def _password_first() -> Response | None:
    """Someone logged in with a one-time password chooses their own before anything else."""
    if request.endpoint in OPEN_WITH_ONE_TIME_PASSWORD or request.endpoint is None:
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("auth.change_password", next=request.full_path.rstrip("?")))
    return None


@login_manager.user_loader
def load_person(token: str) -> Person | None:
    """The person of the open login whose token the browser's cookie holds.

    The login is noted as seen at most every few minutes, after the request's own work.
    """
    now = db.clock().now()
    login = session_for_token(db.session(), token, now=now, lasting=_lasting())
    if login is None:
        return None
    if due_to_be_seen(login, now=now):
        login_id = login.id
        db.write_after_commit(lambda own: mark_seen(own, login_id, now=now))
        # The cookie's expiry moves on with the login, sent again then, not with every page.
        session.modified = True
    if not session.permanent:
        # Opened again from the remember cookie: a lasting cookie again, not one for the tab.
        session.permanent = True
    return login.person


def _lasting() -> timedelta:
    return timedelta(days=db.settings().server.remember_days)


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


DEVICE_COOKIE = "houqin_device"
DEVICE_PEOPLE_KEPT = 5


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="houqin-device")


def _device() -> tuple[str, list[int]]:
    """This phone's id and the logins that succeeded on it, from its signed cookie."""
    raw = request.cookies.get(DEVICE_COOKIE, "")
    try:
        value = _device_serializer().loads(raw) if raw else {}
    except BadSignature:
        value = {}
    device = value.get("d") if isinstance(value, dict) else None
    people = value.get("p") if isinstance(value, dict) else None
    if not isinstance(device, str) or not isinstance(people, list):
        return "", []
    return device, [p for p in people if isinstance(p, int)]


def _login_source() -> LoginSource:
    device, people = _device()
    return LoginSource(
        address=request.remote_addr or "", device=device, device_people=frozenset(people)
    )


def _remember_device(response: Response, person: Person) -> None:
    """Mark this phone as one this person logs in on, so others' guesses do not lock it."""
    device, people = _device()
    people = [person.id, *(p for p in people if p != person.id)][:DEVICE_PEOPLE_KEPT]
    value = _device_serializer().dumps({"d": device or secrets.token_urlsafe(16), "p": people})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


@bp.route("/login", methods=["GET", "POST"])
@db.reads_first
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(safe_next(form.next.data))
    if form.validate_on_submit():
        now = db.clock().now()
        replaced = current_user.login_session.id if current_user.is_authenticated else None
        try:
            # The password hash is compared before the write lock is taken.
            check = check_login(
                db.session(),
                form.login.data or "",
                form.password.data or "",
                source=_login_source(),
                now=now,
            )
        except DomainError as refused:
            form.password.errors = [translate(refused.message)]
            status = 429 if isinstance(refused, LoginLocked) else 401
            return render_template("auth/login.html", form=form, days=_days()), status
        writing = db.begin_writing()
        try:
            # Read again while writing: guesses sent alongside may have locked it meanwhile.
            person = record_login(writing, check, now=now)
        except LoginLocked as refused:
            form.password.errors = [translate(refused.message)]
            return render_template("auth/login.html", form=form, days=_days()), 429
        if person is not None:
            # The login this browser had before (someone else's, or an older one) ends.
            previous = writing.get(LoginSession, replaced) if replaced else None
            if previous is not None:
                end_session(writing, previous, now=now)
            start_session(
                writing,
                person,
                user_agent=request.user_agent.string,
                address=request.remote_addr or "",
                now=now,
            )
            session.permanent = True
            login_user(person, remember=True)
            target = safe_next(form.next.data)
            if person.must_change_password:
                target = url_for("auth.change_password", next=target)
            response = redirect(target)
            _remember_device(response, person)
            return response
        # record_login counted the wrong password; the door commits the count with this page.
        form.password.errors = [_l("Wrong phone number, username or password.")]
        return render_template("auth/login.html", form=form, days=_days()), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, days=_days()), status


class PasswordForm(FlaskForm):
    current = PasswordField()
    new = PasswordField()
    repeat = PasswordField()
    next = HiddenField()


@bp.route("/password", methods=["GET", "POST"])
@login_required
@db.reads_first
def change_password() -> str | Response | tuple[str, int]:
    """Choose one's own password: required after a one-time one, open to everyone.

    The current password is compared and the new one hashed before the write lock is taken;
    wrong current passwords are counted like wrong logins, so a stolen session cannot guess.
    """
    form = PasswordForm()
    errors: dict[str, str] = {}
    status = 422
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    elif form.validate_on_submit():
        now = db.clock().now()
        try:
            change = check_password_change(
                db.session(),
                current_user,
                current=form.current.data or "",
                new=form.new.data or "",
                repeat=form.repeat.data or "",
                source=_login_source(),
                now=now,
            )
            # Every other login of the person ends: whoever knew the old password is let out.
            save_password_change(
                db.begin_writing(),
                current_user,
                change,
                now=now,
                keeping=current_user.login_session,
            )
        except LoginLocked as locked:
            errors, status = {"current": translate(locked.message)}, 429
        except SubmissionInvalid as invalid:
            # A wrong current password was counted; the door commits the count with this page.
            errors = {key: translate(message) for key, message in invalid.errors.items()}
        else:
            flash(gettext("Your password is saved."), "success")
            return redirect(safe_next(form.next.data))
    else:
        return redirect(url_for("auth.change_password"))
    page = render_template(
        "auth/password.html", form=form, errors=errors, forced=current_user.must_change_password
    )
    return (page, status) if errors else page


def _days() -> int:
    return db.settings().server.remember_days


@bp.post("/logout")
@login_required
def logout() -> Response:
    """The login ends on the server too: a copy of its cookies opens nothing afterwards."""
    if current_user.login_session is not None:
        end_session(db.session(), current_user.login_session, now=db.clock().now())
    logout_user()
    response = redirect(url_for("auth.login"))
    # The next person on this phone does not find what this one had kept.
    response.delete_cookie(drafts.COOKIE, path="/s/")
    return response


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
            set_locale(current_user, lang)
    return response


class EndSessionForm(FlaskForm):
    """Only the CSRF token: which login is in the address."""


def device_label(user_agent: str) -> str:
    """A login's browser and system, as the person reads them: 微信（iPhone）."""
    device = device_of(user_agent)
    return gettext(
        "%(browser)s (%(system)s)",
        browser=gettext(device.browser),
        system=gettext(device.system),
    )


@bp.get("/sessions")
@login_required
def list_sessions() -> str:
    """Where the person is logged in, to end a login on a lost phone or a shared computer."""
    logins = sessions_of(db.session(), current_user, now=db.clock().now(), lasting=_lasting())
    current = current_user.login_session
    return render_template(
        "auth/sessions.html",
        logins=logins,
        current_id=current.id if current is not None else None,
        form=EndSessionForm(),
        device_label=device_label,
    )


@bp.post("/sessions/<id:login_id>/end")
@login_required
def end_one_session(login_id: int) -> Response:
    form = EndSessionForm()
    if not form.validate_on_submit():
        abort(400)
    current = current_user.login_session
    try:
        end_own_session(db.session(), current_user, login_id, now=db.clock().now())
    except LoginSessionNotFound:
        abort(404)
    if current is not None and current.id == login_id:
        logout_user()
        return redirect(url_for("auth.login"))
    flash(gettext("That login has ended."), "success")
    return redirect(url_for("auth.list_sessions"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions() -> Response:
    form = EndSessionForm()
    if not form.validate_on_submit():
        abort(400)
    end_all_sessions(
        db.session(), current_user, now=db.clock().now(), except_=current_user.login_session
    )
    flash(gettext("Every other login has ended."), "success")
    return redirect(url_for("auth.list_sessions"))
