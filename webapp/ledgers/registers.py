"""The registers' ledgers (staff certificates, suppliers, insurance, documents) of a school or
the district, for a period: on screen, as Excel, printed and as PDF, all from one
`models.register_ledgers.register_ledger`."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from models.periods import PERIOD_KIND_LABELS, PeriodInvalid, parse_period
from models.register_ledgers import (
    REGISTER_TITLES,
    STATUS_FILTER_LABELS,
    STATUS_FILTERS,
    Register,
    RegisterFilters,
    RegisterLedger,
    register_ledger,
)
from webapp import db
from webapp.downloads import pdf_download
from webapp.i18n import current_locale, translate
from webapp.ledgers import _download, _scope, bp

FILTER_ARGS = ("period", "on", "from", "to", "status", "kind", "holder")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _register(name: str) -> Register:
    try:
        return Register(name)
    except ValueError:
        abort(404)


def _filters() -> RegisterFilters:
    args = request.args
    status = args.get("status") or None
    return RegisterFilters(
        status=status if status in STATUS_FILTERS else None,
        kind=(args.get("kind") or "").strip() or None,
        holder=(args.get("holder") or "").strip() or None,
    )


def _ledger(school_code: str | None, name: str) -> tuple[RegisterLedger, str]:
    """The register's ledger the request names, and what was wrong with its period."""
    register = _register(name)
    district, school = _scope(school_code)
    session = db.session()
    error = ""
    try:
        period = parse_period(session, request.args, district=district, now=db.clock().now())
    except PeriodInvalid as invalid:
        error = translate(invalid.message)
        period = parse_period(session, {}, district=district, now=db.clock().now())
    ledger = register_ledger(
        session,
        current_user,
        register,
        district=district,
        school=school,
        period=period,
        filters=_filters(),
        locale=current_locale(),
        today=district.local(db.clock().now()).date(),
    )
    return ledger, error


FORMS = (("screen", ""), ("excel", "_excel"), ("print", "_print"), ("pdf", "_pdf"))


def _urls(school_code: str | None, register: Register) -> dict[str, str]:
    """The screen, Excel, print and PDF addresses of this register's ledger."""
    if school_code is None:
        return {
            form: url_for(f"ledgers.district_register{suffix}", name=register.value)
            for form, suffix in FORMS
        }
    return {
        form: url_for(
            f"ledgers.school_register{suffix}", school_code=school_code, name=register.value
        )
        for form, suffix in FORMS
    }


def _query(ledger: RegisterLedger) -> str:
    named = ledger.period.query_args()
    kept = {k: v for k in FILTER_ARGS if (v := request.args.get(k)) and k not in named}
    return urlencode({**kept, **named})


def _file_name(ledger: RegisterLedger, suffix: str) -> str:
    return f"{ledger.scope}-{ledger.title}-{ledger.period.start}-{ledger.period.end}.{suffix}"


def _screen(school_code: str | None, name: str) -> str:
    ledger, error = _ledger(school_code, name)
    tabs = {
        register: (
            url_for("ledgers.school_register", school_code=school_code, name=register.value)
            if school_code
            else url_for("ledgers.district_register", name=register.value)
        )
        for register in Register
    }
    return render_template(
        "ledgers/registers.html",
        ledger=ledger,
        error=error,
        tabs=tabs,
        register_titles=REGISTER_TITLES,
        period_kinds=PERIOD_KIND_LABELS,
        statuses=STATUS_FILTER_LABELS,
        args=request.args,
        query=_query(ledger),
        period_query=urlencode(ledger.period.query_args()),
        urls=_urls(school_code, ledger.register),
    )


def _excel(school_code: str | None, name: str) -> Response:
    from webapp.ledgers.excel import register_workbook

    ledger, _error = _ledger(school_code, name)
    return _download(
        register_workbook(ledger, _("Nothing to list.")), _file_name(ledger, "xlsx"), XLSX
    )


def _print_html(school_code: str | None, name: str) -> tuple[str, RegisterLedger]:
    ledger, _error = _ledger(school_code, name)
    html = render_template(
        "ledgers/registers_print.html", ledger=ledger, printed_at=db.clock().now()
    )
    return html, ledger


def _pdf(school_code: str | None, name: str) -> Response:
    html, ledger = _print_html(school_code, name)
    return pdf_download(html, _file_name(ledger, "pdf"))


@bp.get("/ledger/<school_code>/registers/<name>")
@login_required
def school_register(school_code: str, name: str) -> str:
    return _screen(school_code, name)


@bp.get("/ledger/<school_code>/registers/<name>/excel")
@login_required
def school_register_excel(school_code: str, name: str) -> Response:
    return _excel(school_code, name)


@bp.get("/ledger/<school_code>/registers/<name>/print")
@login_required
def school_register_print(school_code: str, name: str) -> str:
    return _print_html(school_code, name)[0]


@bp.get("/ledger/<school_code>/registers/<name>/pdf")
@login_required
def school_register_pdf(school_code: str, name: str) -> Response:
    return _pdf(school_code, name)


@bp.get("/ledgers/district/registers/<name>")
@login_required
def district_register(name: str) -> str:
    return _screen(None, name)


@bp.get("/ledgers/district/registers/<name>/excel")
@login_required
def district_register_excel(name: str) -> Response:
    return _excel(None, name)


@bp.get("/ledgers/district/registers/<name>/print")
@login_required
def district_register_print(name: str) -> str:
    return _print_html(None, name)[0]


@bp.get("/ledgers/district/registers/<name>/pdf")
@login_required
def district_register_pdf(name: str) -> Response:
    return _pdf(None, name)
