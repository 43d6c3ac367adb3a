"""Whatever a school's spreadsheet holds under the right headers, every row is checked and
each refused one says which column and why: no cell makes another error (which the import
page would show as a 500). Rows of random cells, by hypothesis, for every kind of import."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.imports import IMPORT_KINDS, preview_import
from models.org import School
from models.people import Person
from models.spreadsheets import ImportRefused
from tests.factories import make_district_admin, make_school

# What people type into such sheets, and what they should not: any text, numbers, dates good
# and impossible, phone numbers, formulas, the kinds' own words, blanks.
cell = st.one_of(
    st.text(max_size=30),
    st.integers(-(10**15), 10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
    st.sampled_from(
        [
            "",
            " ",
            "2026-02-30",
            "13800000000",
            "1380000000",
            "=1+2",
            "@SUM(A1)",
            "灭火器",
            "是",
            "否",
            "教学楼",
            "0",
            "-1",
            "3.5",
            "extinguisher",
            "bus",
            "teacher",
            "x" * 200,
        ]
    ),
)


@pytest.fixture
def school(session: Session) -> School:
    school = make_school(session)
    session.commit()
    return school


@pytest.fixture
def district_admin(session: Session, clock: SettableClock, school: School) -> Person:
    admin = make_district_admin(session, clock, school)
    session.commit()
    return admin


@pytest.mark.parametrize("kind_key", sorted(IMPORT_KINDS))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(st.lists(cell, min_size=12, max_size=12), min_size=1, max_size=3))
def test_every_row_of_random_cells_is_checked_and_each_refusal_names_its_column(
    session: Session,
    clock: SettableClock,
    school: School,
    district_admin: Person,
    kind_key: str,
    rows: list[list[str]],
) -> None:
    kind = IMPORT_KINDS[kind_key]
    headers = [column.template_header for column in kind.columns]
    text = "\r\n".join(
        ",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c in row)
        for row in [headers, *(r[: len(headers)] for r in rows)]
    )
    try:
        preview = preview_import(
            session,
            kind_key,
            school=school,
            actor=district_admin,
            data=text.encode(),
            now=clock.now(),
        )
    except ImportRefused as refused:  # the file as a whole (a cell too long, say): said so
        assert refused.message.msgid
        return
    finally:
        session.rollback()
    assert len(preview.rows) <= len(rows)
    for row in preview.refused:
        assert all(problem.column and problem.message.msgid for problem in row.problems)
