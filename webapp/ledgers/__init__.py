"""Ledgers (台账) of a school or the district, for a period: on screen, as Excel, printed
and as PDF, all from one `models.ledgers.build_ledger`."""

from __future__ import annotations

import base64
import io
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from models.assets import KIND_LABELS
from models.checklists import latest_templates
from models.ledgers import (
    COLUMNS,
    COUNT_CAP,
    Ledger,
    LedgerFilters,
    build_ledger,
    pack_cover,
)
from models.org import District, School
from models.people import visible_school, visible_schools
from models.periods import PERIOD_KIND_LABELS, Period, PeriodInvalid, parse_period
from models.records import Result
from models.register_ledgers import REGISTER_TITLES, Register, RegisterLedger, register_ledgers
from webapp import db
from webapp.downloads import download as _download
from webapp.downloads import pdf_download
from webapp.i18n import current_locale, translate
from webapp.ids import row_id

bp = Blueprint("ledgers", __name__, template_folder="templates")

PER_PAGE = 50
FILTER_ARGS = (
    "period",
    "on",
    "from",
    "to",
    "kind",
    "checklist",
    "asset",
    "result",
    "person",
    "flagged",
)


def _scope(school_code: str | None) -> tuple[District, School | None]:
    """The district and school a ledger covers; 404 for a school the viewer may not see."""
    session = db.session()
    if school_code is not None:
        school = visible_school(session, current_user, school_code)
        if school is None:
            abort(404)
        return school.district, school
    schools = visible_schools(session, current_user)
    if not schools:
        abort(404)
    return schools[0].district, None


def _filters() -> LedgerFilters:
    args = request.args
    kind = args.get("kind") or None
    if kind is not None and kind not in KIND_LABELS:
        abort(404)
    result = args.get("result") or None
    if result is not None and result not in (Result.PASS, Result.FAIL):
        result = None
    return LedgerFilters(
        kind=kind,
        checklist=(args.get("checklist") or "").strip() or None,
        asset=(args.get("asset") or "").strip() or None,
        result=result,
        person_id=args.get("person", type=row_id),
        flagged=args.get("flagged") == "1",
    )


def _ledger(school_code: str | None, page: int | None = None) -> tuple[Ledger, School | None, str]:
    """The ledger the request names; one screen page of it when `page` is given."""
    district, school = _scope(school_code)
    session = db.session()
    error = ""
    try:
        period = parse_period(session, request.args, district=district, now=db.clock().now())
    except PeriodInvalid as invalid:
        error = translate(invalid.message)
        period = parse_period(session, {}, district=district, now=db.clock().now())
    ledger = build_ledger(
        session,
        current_user,
        district=district,
        school=school,
        period=period,
        filters=_filters(),
        locale=current_locale(),
        implausible_within=db.implausible_within(),
        photo_older=db.photo_older_than(),
        **({"offset": (page - 1) * PER_PAGE, "limit": PER_PAGE} if page else {}),
    )
    return ledger, school, error


def _keys(school: School | None) -> list[str]:
    """The columns shown: a school's own ledger leaves out the school."""
    return [key for key, _label in COLUMNS if school is None or key != "school"]


def _query(period: Period, **extra: str) -> str:
    """The query string naming this ledger's period and filters again."""
    named = period.query_args()
    kept = {k: v for k in FILTER_ARGS if (v := request.args.get(k)) and k not in named}
    return urlencode({**kept, **named, **extra})


def _file_name(ledger: Ledger, suffix: str) -> str:
    return f"{ledger.scope}-{ledger.kind_label}-{ledger.period.start}-{ledger.period.end}.{suffix}"


def _screen(school_code: str | None) -> str:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    ledger, school, error = _ledger(school_code, page)
    capped = ledger.total > COUNT_CAP
    pages = max(1, -(-ledger.total // PER_PAGE))
    district, _school = _scope(school_code)
    checklists = sorted(
        (
            (t.key, t.spec.title_text(current_locale()))
            for t in latest_templates(db.session(), district.id)
        ),
        key=lambda kv: kv[1],
    )
    return render_template(
        "ledgers/ledger.html",
        ledger=ledger,
        school=school,
        # The sections' own columns (a food sample's disposal) after the common ones.
        keys=_keys(school) + [key for key, _ in ledger.extra_columns],
        headers=[*ledger.headers, *(header for _, header in ledger.extra_columns)],
        # One list on screen, in the order things happened; the sheets and paper keep a
        # section per checklist, each with its heading.
        rows=sorted(ledger.rows, key=lambda r: (r.at, r.record_id)),
        page=page,
        pages=pages,
        capped=capped,
        has_next=ledger.truncated,
        error=error,
        kinds=KIND_LABELS,
        period_kinds=PERIOD_KIND_LABELS,
        checklists=checklists,
        query=_query(ledger.period),
        period_query=urlencode(ledger.period.query_args()),
        args=request.args,
        urls=_urls(school_code),
        registers=Register,
        register_titles=REGISTER_TITLES,
    )


def _urls(school_code: str | None) -> dict[str, str]:
    """The screen, Excel, print and PDF addresses of this ledger (without the query)."""
    if school_code is None:
        return {
            form: url_for(f"ledgers.{name}")
            for form, name in (
                ("screen", "show_ledger"),
                ("excel", "excel"),
                ("print", "print_ledger"),
                ("pdf", "pdf"),
            )
        }
    return {
        form: url_for(f"ledgers.{name}", school_code=school_code)
        for form, name in (
            ("screen", "show_ledger_school"),
            ("excel", "excel_school"),
            ("print", "print_school"),
            ("pdf", "pdf_school"),
        )
    }


def _data_uri(key: str, photo_id: int) -> str:
    """A stored thumbnail inside the page, for the PDF renderer, which fetches nothing."""
    data = _thumbnail(key)
    if data is None:
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def _thumbnail(key: str) -> bytes | None:
    try:
        return db.photo_store().read(key)
    except FileNotFoundError:
        return None


def _excel_words() -> dict[str, str]:
    """The few words a ledger's workbook adds to its cells, in the reader's language."""
    return {
        "closed": _("Closed"),
        "due": _("Fix by"),
        "empty": _("Nothing recorded in this period."),
        "phone_at": _("Time on the phone"),
    }


def _excel(school_code: str | None) -> Response:
    from webapp.ledgers.excel import ledger_workbook

    ledger, school, _error = _ledger(school_code)
    words = _excel_words()
    data = ledger_workbook(
        ledger,
        _keys(school),
        texts=words.__getitem__,
        thumbnail=_thumbnail,
        photo_url=lambda photo_id: url_for("records.photo", photo_id=photo_id, _external=True),
    )
    return _download(
        data,
        _file_name(ledger, "xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _print_html(school_code: str | None, *, for_pdf: bool) -> tuple[str, Ledger]:
    ledger, school, _error = _ledger(school_code)

    def thumb_src(key: str, photo_id: int) -> str:
        if for_pdf:
            return _data_uri(key, photo_id)
        return url_for("records.thumbnail", photo_id=photo_id)

    html = render_template(
        "ledgers/print.html",
        ledger=ledger,
        school=school,
        keys=_keys(school),
        thumb_src=thumb_src,
        printed_at=db.clock().now(),
        for_pdf=for_pdf,
    )
    return html, ledger


def _pdf(school_code: str | None) -> Response:
    html, ledger = _print_html(school_code, for_pdf=True)
    return pdf_download(html, _file_name(ledger, "pdf"))


@bp.get("/ledger/<school_code>")
@login_required
def show_ledger_school(school_code: str) -> str:
    return _screen(school_code)


@bp.get("/ledger/<school_code>/excel")
@login_required
def excel_school(school_code: str) -> Response:
    return _excel(school_code)


@bp.get("/ledger/<school_code>/print")
@login_required
def print_school(school_code: str) -> str:
    return _print_html(school_code, for_pdf=False)[0]


@bp.get("/ledger/<school_code>/pdf")
@login_required
def pdf_school(school_code: str) -> Response:
    return _pdf(school_code)


def _pack(school_code: str) -> tuple[Ledger, list[RegisterLedger], School | None]:
    """Every ledger of the school for the period (no filters but the period) and its four
    registers as of the period's end."""
    district, school = _scope(school_code)
    session = db.session()
    try:
        period = parse_period(session, request.args, district=district, now=db.clock().now())
    except PeriodInvalid:
        abort(404)
    ledger = build_ledger(
        session,
        current_user,
        district=district,
        school=school,
        period=period,
        locale=current_locale(),
        implausible_within=db.implausible_within(),
        photo_older=db.photo_older_than(),
    )
    registers = register_ledgers(
        session,
        current_user,
        district=district,
        school=school,
        period=period,
        locale=current_locale(),
        today=district.local(db.clock().now()).date(),
    )
    return ledger, registers, school


@bp.get("/ledger/<school_code>/pack/pdf")
@login_required
def pack_pdf(school_code: str) -> Response:
    """The inspection pack (迎检包): a cover with the school's figures, the corrective
    actions, the registers with their expiry status and every ledger, in one PDF."""
    ledger, registers, school = _pack(school_code)
    html = render_template(
        "ledgers/pack.html",
        ledger=ledger,
        keys=_keys(school),
        school=school,
        registers=registers,
        cover=pack_cover(ledger, registers),
        thumb_src=_data_uri,
        printed_at=db.clock().now(),
    )
    name = f"{ledger.scope}-{_('Inspection pack')}-{ledger.period.start}-{ledger.period.end}.pdf"
    return pdf_download(html, name)


@bp.get("/ledger/<school_code>/pack/zip")
@login_required
def pack_zip(school_code: str) -> Response:
    """The inspection pack's Excel files in one zip: a file per checklist and per register."""
    import zipfile
    from dataclasses import replace

    from webapp.ledgers.excel import ledger_workbook, register_workbook

    ledger, registers, school = _pack(school_code)
    keys = _keys(school)
    words = _excel_words()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as pack:
        for section in ledger.sections:
            one = replace(ledger, sections=[section], total=len(section.rows))
            data = ledger_workbook(
                one,
                keys,
                texts=words.__getitem__,
                thumbnail=_thumbnail,
                photo_url=lambda photo_id: url_for(
                    "records.photo", photo_id=photo_id, _external=True
                ),
            )
            pack.writestr(f"{section.title}.xlsx", data)
        for register in registers:
            pack.writestr(
                f"{register.title}.xlsx", register_workbook(register, _("Nothing to list."))
            )
    name = f"{ledger.scope}-{_('Inspection pack')}-{ledger.period.start}-{ledger.period.end}.zip"
    return _download(out.getvalue(), name, "application/zip")


@bp.get("/ledgers/district")
@login_required
def show_ledger() -> str:
    return _screen(None)


@bp.get("/ledgers/district/excel")
@login_required
def excel() -> Response:
    return _excel(None)


@bp.get("/ledgers/district/print")
@login_required
def print_ledger() -> str:
    return _print_html(None, for_pdf=False)[0]


@bp.get("/ledgers/district/pdf")
@login_required
def pdf() -> Response:
    return _pdf(None)


from webapp.ledgers import registers as _registers  # noqa: E402,F401  (its routes)
