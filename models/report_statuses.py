"""Which statutory reports each school owes for a month and how each stands: the district's
first look at who signed on time, who signed late, who is yet to sign and who owes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.food_safety import (
    KINDS,
    FoodSafetyReport,
    ReportKind,
    ReportStatus,
    deadline,
    first_assets,
    owed,
    period_of,
    periods_of_month,
    report_path,
    report_status,
)
from models.org import School
from models.people import Person, visible_school_ids


@dataclass(frozen=True)
class Column:
    """A report due in the month: each weekly report, the minutes, the fire record, and the
    water report when its quarter ends in the month."""

    kind: ReportKind
    starts_on: date
    ends_on: date


@dataclass
class Cell:
    status: ReportStatus
    path: str
    deadline: datetime
    signed_by: str | None = None
    signed_at: datetime | None = None
    on_time: bool | None = None


@dataclass
class SchoolStatuses:
    school: School
    cells: list[Cell]


@dataclass
class StatusTable:
    month: date
    columns: list[Column]
    schools: list[SchoolStatuses]


def report_statuses(session: Session, person: Person, month: date, *, now: datetime) -> StatusTable:
    """Every school the person may see × every report due in the month: a district
    administrator's whole district, a school's administrator their own school only."""
    first = period_of(ReportKind.MONTHLY, month)[0]
    columns = [
        Column(kind, *period_of(kind, starts_on))
        for kind, starts_on in periods_of_month(first, once=True)
    ]
    schools = list(
        session.scalars(
            select(School).where(School.id.in_(visible_school_ids(person))).order_by(School.code)
        )
    )
    ids = [school.id for school in schools]
    opened = first_assets(session, ids)
    rows = {
        (row.school_id, row.kind, row.starts_on): row
        for row in session.scalars(
            select(FoodSafetyReport)
            .options(selectinload(FoodSafetyReport.signed_by))
            .where(
                FoodSafetyReport.school_id.in_(ids),
                FoodSafetyReport.starts_on.in_({column.starts_on for column in columns}),
                FoodSafetyReport.kind.in_({column.kind for column in columns}),
            )
        )
    }
    table = StatusTable(first, columns, [])
    for school in schools:
        cells = []
        for column in columns:
            kind, starts_on = column.kind, column.starts_on
            row = rows.get((school.id, kind, starts_on))
            by = deadline(school, kind, starts_on)
            cell = Cell(
                report_status(school, kind, starts_on, row, now=now),
                report_path(school, kind, starts_on),
                by,
            )
            since = opened.get((school.id, KINDS[kind].family.owed_from))
            if row is not None and row.signed_at is not None:
                cell.signed_by = row.signed_by.display_name if row.signed_by else None
                cell.signed_at = row.signed_at
                cell.on_time = row.signed_at <= by
            elif since is None or not owed(school, kind, starts_on, since):
                cell.status = ReportStatus.NOT_OWED
            cells.append(cell)
        table.schools.append(SchoolStatuses(school, cells))
    return table
