"""Ledgers (台账): a school's or the district's records of one kind in a period, as plain
columns and rows that the screen, the Excel file and the printed page all show alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models.actions import FAILURE_DETAILS, ActionEvent, CorrectiveAction, EventKind
from models.assets import KIND_LABELS, Asset
from models.catalogue import COLON, join_list, pick_text, translate
from models.checklists import FormTemplate
from models.drills import DRILL_TEMPLATE
from models.figures import record_figures
from models.flag_notes import FlagNote, notes_for
from models.food_samples import SAMPLE_RETENTION, SampleKeeping, sample_keeping
from models.health import DUTY, HEALTH_CHECK, ON_DUTY, workers_of
from models.messages import N_, Message
from models.org import District, School
from models.people import Person, visible_school_ids
from models.periods import Period
from models.places import DISTANCE_LABELS, Distance
from models.plausibility import (
    DEFAULT_PHOTO_OLDER,
    DEFAULT_WITHIN,
    Implausible,
    OldPhoto,
    flagged_clause,
    implausible_reasons,
)
from models.records import Record, Result, phone_time_differs
from models.register_ledgers import RegisterLedger, expiry_counts

# The columns an inspector reads, in order; every renderer shows these.
COLUMNS = (
    ("at", N_("Date and time")),
    ("school", N_("School")),
    ("asset", N_("Asset")),
    ("checklist", N_("Checklist")),
    ("result", N_("Result")),
    ("who", N_("Filed by")),
    ("failures", N_("Failures")),
    ("actions", N_("Corrective action")),
    ("flags", N_("Flags")),
    ("photos", N_("Photos")),
)

# Columns only one checklist's section adds, after the others: a food sample's 48 hours
# (models/food_samples.py), so an inspector reads the rule from the ledger.
SECTION_COLUMNS = {
    SAMPLE_RETENTION: (
        ("sampled_at", N_("Sampled at")),
        ("disposed_at", N_("Disposed of at")),
        ("disposed_by", N_("Disposed of by")),
    ),
    # Who worked that morning, of the canteen staff the check went through one by one.
    HEALTH_CHECK: (("on_duty", N_("On duty")),),
}

# The most records one export holds: a school's busiest ledger for three years fits.
EXPORT_LIMIT = 50_000
# Counting a screen's total stops here, so a page costs the same after years of records.
COUNT_CAP = 10_000
# The people a ledger's "filed by" filter offers.
PEOPLE_CAP = 200


@dataclass(frozen=True)
class LedgerFilters:
    """What narrows a ledger: an asset kind or checklist, one asset, a result, a person,
    or only flagged records."""

    kind: str | None = None
    checklist: str | None = None
    asset: str | None = None
    result: str | None = None
    person_id: int | None = None
    flagged: bool = False


@dataclass(frozen=True)
class LedgerPhoto:
    photo_id: int
    thumb_key: str
    storage_key: str


@dataclass(frozen=True)
class LedgerAction:
    """The corrective action a failure opened, and how it was closed."""

    action_id: int
    failure: str
    status: str
    due_at: datetime
    closed_at: datetime | None
    closed_by: str
    note: str

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class LedgerRow:
    record_id: int
    at: datetime  # in the district's time, without a zone (as a spreadsheet holds it)
    school: str
    asset_code: str
    asset_name: str
    checklist_key: str
    checklist: str
    passed: bool
    result: str
    who: str
    failures: tuple[str, ...]
    actions: tuple[LedgerAction, ...]
    flags: tuple[str, ...]
    photos: tuple[LedgerPhoto, ...]
    # What the record's numbers add up to (a meter's consumption, a class's milk rate).
    figure: str = ""
    # The cells of its section's own columns (SECTION_COLUMNS), by key.
    extra: dict[str, str] = field(default_factory=dict)
    # The time on the phone, in the district's time, when it differs from `at` by more than
    # a few minutes (a record kept offline, a wrong clock); else None.
    phone_at: datetime | None = None
    # An administrator's note explaining the flags (已说明), with who and when; "" if none.
    explained: str = ""


@dataclass(frozen=True)
class LedgerSection:
    """One checklist's rows: a sheet of the Excel file, a table on the page."""

    key: str
    title: str
    rows: list[LedgerRow] = field(default_factory=list)
    # The rule the checklist serves and its statutory minimum, in one line ("" if none).
    basis: str = ""
    # Its own columns after the common ones (SECTION_COLUMNS): keys and headers.
    extra_keys: tuple[str, ...] = ()
    extra_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ledger:
    scope: str  # the school's name, or the district's
    kind_label: str
    period: Period
    period_label: str
    headers: tuple[str, ...]
    sections: list[LedgerSection]
    total: int  # in the whole period, up to COUNT_CAP + 1
    truncated: bool  # more records than this ledger holds
    people: list[tuple[int, str]]

    @property
    def rows(self) -> list[LedgerRow]:
        return [row for section in self.sections for row in section.rows]

    @property
    def extra_columns(self) -> list[tuple[str, str]]:
        """The sections' own columns (key, header), each once: one list on screen shows them
        all after the common ones, empty in the rows of other checklists."""
        seen: dict[str, str] = {}
        for section in self.sections:
            for key, header in zip(section.extra_keys, section.extra_headers, strict=True):
                seen.setdefault(key, header)
        return list(seen.items())


def _message_text(message: Message, locale: str) -> str:
    """A domain message in the reader's language; a {zh_CN, en} parameter picks theirs."""
    params = {
        name: pick_text(value, locale) if isinstance(value, dict) else value
        for name, value in message.params.items()
    }
    return translate(locale, message.msgid, **params)


def _action_row(action: CorrectiveAction, district: District, locale: str) -> LedgerAction:
    closing = next((e for e in reversed(action.events) if e.kind == EventKind.CLOSED), None)
    return LedgerAction(
        action_id=action.id,
        failure=pick_text(action.what, locale),
        status=translate(locale, N_("Open") if action.is_open else N_("Closed")),
        due_at=district.local(action.due_at).replace(tzinfo=None),
        closed_at=(
            district.local(action.closed_at).replace(tzinfo=None)
            if action.closed_at is not None and not action.is_open
            else None
        ),
        closed_by=(closing.by.display_name if closing and closing.by else "")
        if not action.is_open
        else "",
        note=(closing.note or "") if closing and not action.is_open else "",
    )


def _flags(
    record: Record, implausible: Implausible | None, district: District, locale: str
) -> list[str]:
    """A record's flags in words: what looks implausible, and the record whose photo it
    shares, named by asset and time."""
    flags = []
    if implausible is not None and implausible.quick is not None:
        quick = implausible.quick
        asset = f"{quick.asset_name} {quick.asset_code}"
        if quick.distance is not None:
            asset = translate(
                locale,
                N_("%(asset)s, %(distance)s"),
                asset=asset,
                distance=translate(locale, DISTANCE_LABELS[quick.distance]),
            )
        flags.append(
            translate(
                locale,
                N_("Only %(seconds)d s after the same person's last record (%(asset)s)"),
                seconds=quick.seconds,
                asset=asset,
            )
        )
    if implausible is not None and implausible.backwards is not None:
        backwards = implausible.backwards
        flags.append(
            translate(
                locale,
                N_("Reading %(reading)s is below the meter's previous one (%(last)s on %(date)s)"),
                reading=_number(backwards.reading),
                last=_number(backwards.last),
                date=backwards.since,
            )
        )
    if implausible is not None and implausible.photo is not None:
        flags += photo_flags(implausible.photo, district, locale)
    if implausible is not None and implausible.forwarded_at is not None:
        flags.append(
            translate(
                locale,
                N_("Photo forwarded from another chat (first sent %(time)s)"),
                time=district.local(implausible.forwarded_at).strftime("%Y-%m-%d %H:%M"),
            )
        )
    if implausible is not None and implausible.far is not None:
        flags.append(
            translate(
                locale,
                N_("Submitted about %(distance)s from the school"),
                distance=distance_text(implausible.far.distance_m, locale),
            )
        )
    if record.changed_from is not None:
        earlier = record.changed_from
        flags.append(
            translate(
                locale,
                N_(
                    "The same person filed this label %(seconds)d s earlier with other "
                    "answers (%(time)s)"
                ),
                seconds=int((record.submitted_at - earlier.submitted_at).total_seconds()),
                time=district.local(earlier.submitted_at).strftime("%H:%M:%S"),
            )
        )
    if record.same_photo_as is not None:
        other = record.same_photo_as
        flags.append(
            translate(
                locale,
                N_("Same photo as the record of %(asset)s at %(time)s"),
                asset=f"{other.asset.name} {other.asset.code}",
                time=district.local(other.submitted_at).strftime("%Y-%m-%d %H:%M"),
            )
        )
    return flags


def _explained(kept: FlagNote | None, district: District, locale: str) -> str:
    """The note explaining a record's flags, with who wrote it and when, in words."""
    if kept is None:
        return ""
    return translate(
        locale,
        N_("Explained: %(note)s (%(who)s, %(time)s)"),
        note=kept.note,
        who=kept.by.display_name,
        time=district.local(kept.at).strftime("%Y-%m-%d %H:%M"),
    )


def explained_text(session: Session, record: Record, locale: str) -> str:
    """The note explaining one record's flags, in words, for its own page; "" if none."""
    return _explained(
        notes_for(session, [record.id]).get(record.id), record.asset.school.district, locale
    )


def record_flags(
    session: Session,
    record: Record,
    *,
    locale: str,
    implausible_within: timedelta = DEFAULT_WITHIN,
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> list[str]:
    """What looks implausible about one record, in words, for its own page (which names the
    record sharing its photo with a link of its own)."""
    implausible = implausible_reasons(session, [record], implausible_within, photo_older)
    district = record.asset.school.district
    shown = _flags(record, implausible.get(record.id), district, locale)
    if record.same_photo_as is not None:
        shown = shown[:-1]
    return shown


def previous_record_text(record: Record, locale: str) -> str:
    """How long after the same person's previous record, at another asset, this one came and
    where that asset lies from it; "" when there was none within the hour."""
    if record.after_asset is None or record.after_seconds is None:
        return ""
    asset = f"{record.after_asset.name} {record.after_asset.code}"
    distance = Distance(record.after_distance) if record.after_distance in DISTANCE_LABELS else None
    if distance is None:
        return translate(
            locale,
            N_("%(seconds)d s before, at %(asset)s"),
            seconds=record.after_seconds,
            asset=asset,
        )
    return translate(
        locale,
        N_("%(seconds)d s before, at %(asset)s (%(distance)s)"),
        seconds=record.after_seconds,
        asset=asset,
        distance=translate(locale, DISTANCE_LABELS[distance]),
    )


def distance_text(metres: int, locale: str) -> str:
    """A distance in words: metres under a kilometre, kilometres to one decimal above."""
    if metres < 1000:
        return translate(locale, N_("%(n)d m"), n=metres)
    return translate(locale, N_("%(n)s km"), n=f"{metres / 1000:.1f}")


def location_text(record: Record, locale: str) -> str:
    """Where the phone was when the record was filed, in words; "" when it was not given."""
    if record.accuracy_m is None or record.latitude is None or record.longitude is None:
        return ""
    if record.school_distance_m is None:
        return translate(
            locale,
            N_("%(lat).5f, %(lon).5f (accuracy %(accuracy)d m)"),
            lat=record.latitude,
            lon=record.longitude,
            accuracy=record.accuracy_m,
        )
    return translate(
        locale,
        N_("About %(distance)s from the school (accuracy %(accuracy)d m)"),
        distance=distance_text(record.school_distance_m, locale),
        accuracy=record.accuracy_m,
    )


def photo_flags(photo: OldPhoto, district: District, locale: str) -> list[str]:
    """A record's photos in words, when one was captured long before it or has no time."""
    flags = []
    if photo.taken_at is not None:
        minutes = photo.age_seconds // 60
        if minutes < 120:
            ago = translate(locale, N_("%(n)d minutes ago"), n=minutes)
        elif minutes < 48 * 60:
            ago = translate(locale, N_("%(n)d hours ago"), n=minutes // 60)
        else:
            ago = translate(locale, N_("%(n)d days ago"), n=minutes // (24 * 60))
        taken = district.local(photo.taken_at)
        flags.append(
            translate(
                locale,
                N_("Photo taken %(ago)s (%(time)s)"),
                ago=ago,
                time=taken.strftime("%H:%M" if minutes < 24 * 60 else "%Y-%m-%d %H:%M"),
            )
        )
    if photo.untimed:
        flags.append(
            translate(
                locale,
                N_("Photo has no capture time (perhaps from the album or a screenshot)"),
            )
        )
    return flags


def _sample_cells(keeping: SampleKeeping | None, locale: str) -> dict[str, str]:
    """A food sample's cells: when sampled, when disposed of (or from when it may be), by whom."""
    if keeping is None:
        return {}
    return {
        "sampled_at": keeping.sampled_at.strftime("%Y-%m-%d %H:%M"),
        "disposed_at": keeping.disposed_at.strftime("%Y-%m-%d %H:%M")
        if keeping.disposed_at is not None
        else _message_text(keeping.still_kept(), locale),
        "disposed_by": keeping.disposed_by,
    }


def _crew_cells(record: Record, locale: str) -> dict[str, str]:
    """A health check's cell: who was on duty, and how many of how many."""
    workers = workers_of(record.answers, record.template.spec)
    if not workers:
        return {}
    on = [str(w["name"]) for w in workers if w.get(DUTY) == ON_DUTY]
    count = translate(locale, N_("%(on)d of %(all)d on duty"), on=len(on), all=len(workers))
    return {"on_duty": f"{count}{COLON[locale]}{join_list(on, locale)}" if on else count}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def build_ledger(
    session: Session,
    viewer: Person,
    *,
    district: District,
    period: Period,
    locale: str,
    school: School | None = None,
    filters: LedgerFilters = LedgerFilters(),
    limit: int = EXPORT_LIMIT,
    offset: int = 0,
    implausible_within: timedelta = DEFAULT_WITHIN,
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> Ledger:
    """The ledger of one school (or, without `school`, of every school of the district the
    viewer sees, each row naming its school), oldest first, for `period` and `filters`.

    A screen asks for one page (`offset`, `limit`); `total` counts the whole period, up to
    COUNT_CAP, so a page costs the same however many records the period holds. A record is
    flagged for a photo another record has, or as implausible (`models.plausibility`)."""
    first, after = period.bounds(district.zone)
    query = (
        select(Record)
        .join(School, School.id == Record.school_id)
        .where(
            Record.school_id.in_(visible_school_ids(viewer)),
            School.district_id == district.id,
            Record.submitted_at >= first,
            Record.submitted_at < after,
        )
    )
    if school is not None:
        query = query.where(Record.school_id == school.id)
    if filters.kind:
        query = query.where(Record.asset_kind == filters.kind)
    if filters.checklist:
        query = query.where(
            Record.template_id.in_(
                select(FormTemplate.id).where(FormTemplate.key == filters.checklist)
            )
        )
    if filters.asset:
        query = query.where(
            Record.asset_id.in_(select(Asset.id).where(Asset.code == filters.asset.strip()))
        )
    if filters.result in (Result.PASS, Result.FAIL):
        query = query.where(Record.result == filters.result)
    people_query = query
    if filters.person_id is not None:
        query = query.where(Record.submitted_by_id == filters.person_id)
    if filters.flagged:
        query = query.where(flagged_clause(implausible_within, photo_older))
    records = list(
        session.scalars(
            query.options(
                selectinload(Record.asset),
                selectinload(Record.same_photo_as).selectinload(Record.asset),
            )
            .order_by(Record.submitted_at, Record.id)
            .offset(offset)
            .limit(limit + 1)
        )
    )
    truncated = len(records) > limit
    records = records[:limit]
    if offset == 0 and not truncated:
        total = len(records)
    else:
        capped = query.with_only_columns(Record.id).limit(COUNT_CAP + 1).subquery()
        total = session.scalar(select(func.count()).select_from(capped)) or 0
    schools = {
        s.id: s.name
        for s in session.scalars(select(School).where(School.district_id == district.id))
    }
    actions: dict[int, list[CorrectiveAction]] = {}
    ids = [r.id for r in records]
    for chunk in range(0, len(ids), 900):
        for action in session.scalars(
            select(CorrectiveAction)
            .where(CorrectiveAction.record_id.in_(ids[chunk : chunk + 900]))
            .options(selectinload(CorrectiveAction.events).selectinload(ActionEvent.by))
            .order_by(CorrectiveAction.id)
        ):
            actions.setdefault(action.record_id or 0, []).append(action)
    figures = {
        record_id: _message_text(message, locale)
        for record_id, message in record_figures(session, records).items()
    }
    implausible = implausible_reasons(session, records, implausible_within, photo_older)
    keeping = sample_keeping(session, records)
    notes = notes_for(session, ids)
    sections: dict[str, LedgerSection] = {}
    pass_text = translate(locale, N_("Pass"))
    fail_text = translate(locale, N_("Fail"))
    for record in records:
        spec = record.template.spec
        section = sections.get(spec.key)
        if section is None:
            basis = spec.basis_text(locale)
            extra = SECTION_COLUMNS.get(spec.key, ())
            section = sections[spec.key] = LedgerSection(
                spec.key,
                spec.title_text(locale),
                basis=basis,
                extra_keys=tuple(key for key, _ in extra),
                extra_headers=tuple(translate(locale, label) for _, label in extra),
            )
        flags = _flags(record, implausible.get(record.id), district, locale)
        section.rows.append(
            LedgerRow(
                record_id=record.id,
                at=district.local(record.submitted_at).replace(tzinfo=None),
                school=schools.get(record.school_id, ""),
                asset_code=record.asset.code,
                asset_name=record.asset.name,
                checklist_key=spec.key,
                checklist=section.title,
                passed=record.passed,
                result=pass_text if record.passed else fail_text,
                who=record.submitted_by.display_name,
                # A failure's own text where the record names who failed (the health check).
                failures=tuple(
                    (record.answers.get(FAILURE_DETAILS, {}).get(k) or {}).get(locale)
                    or (spec.item(k).fail_text(locale) if spec.has(k) else k)
                    for k in record.failed_items
                ),
                actions=tuple(_action_row(a, district, locale) for a in actions.get(record.id, [])),
                flags=tuple(flags),
                photos=tuple(
                    LedgerPhoto(p.photo_id, p.photo.thumb_key, p.photo.storage_key)
                    for p in record.photos
                ),
                figure=figures.get(record.id, ""),
                extra=_sample_cells(keeping.get(record.id), locale) | _crew_cells(record, locale),
                explained=_explained(notes.get(record.id), district, locale) if flags else "",
                phone_at=district.local(record.phone_at).replace(tzinfo=None)
                if record.phone_at is not None and phone_time_differs(record)
                else None,
            )
        )
    people = [
        (person_id, name)
        for person_id, name in session.execute(
            select(Person.id, Person.display_name)
            .where(Person.id.in_(people_query.with_only_columns(Record.submitted_by_id)))
            .order_by(Person.display_name)
            .limit(PEOPLE_CAP)
        )
    ]
    kind = filters.kind
    return Ledger(
        scope=school.name if school is not None else district.name,
        kind_label=translate(locale, KIND_LABELS.get(kind, N_("All duties"))),  # type: ignore[call-overload]
        period=period,
        period_label=period.label(locale),
        headers=tuple(
            translate(locale, label) for key, label in COLUMNS if school is None or key != "school"
        ),
        sections=sorted(sections.values(), key=lambda s: s.key),
        total=total,
        truncated=truncated,
        people=people,
    )


def columns_for(ledger_school: School | None) -> Sequence[str]:
    """The column keys shown: a school's own ledger leaves out the school."""
    return [key for key, _label in COLUMNS if ledger_school is None or key != "school"]


@dataclass(frozen=True)
class PackCover:
    """A school's figures for the period, on the inspection pack's cover (迎检包封面)."""

    records: int
    failed: int
    actions_open: int
    actions_closed: int
    drills: int
    documents: int
    documents_expiring: int
    documents_expired: int
    documents_missing: int


def pack_cover(ledger: Ledger, registers: Sequence[RegisterLedger]) -> PackCover:
    """The cover's figures, counted from the very ledger and registers the pack holds."""
    documents, expiring, expired, missing = expiry_counts(registers)
    rows = ledger.rows
    actions = [a for row in rows for a in row.actions]
    return PackCover(
        records=len(rows),
        failed=sum(1 for r in rows if not r.passed),
        actions_open=sum(1 for a in actions if a.is_open),
        actions_closed=sum(1 for a in actions if not a.is_open),
        drills=sum(1 for r in rows if r.checklist_key == DRILL_TEMPLATE),
        documents=documents,
        documents_expiring=expiring,
        documents_expired=expired,
        documents_missing=missing,
    )
