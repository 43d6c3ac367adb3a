"""A flag explained (已说明): the school's administrators note why a flagged record is fine;
the flag still shows, with the note, who wrote it and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.flag_notes import NotYourSchool, explain_flags
from models.ledgers import LedgerFilters, build_ledger
from models.messages import SubmissionInvalid
from models.people import Role
from models.periods import PeriodKind, period_of
from models.photos import PhotoStore
from tests.factories import file_check, make_asset, make_person, make_school

AT = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai


def _ledger(session, viewer, school, **more):  # type: ignore[no-untyped-def]
    return build_ledger(
        session,
        viewer,
        district=school.district,
        school=school,
        period=period_of(PeriodKind.MONTH, AT.date()),
        locale="zh_CN",
        **more,
    )


def test_an_explained_flag_still_shows_with_the_note_who_and_when(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    desk = make_person(session, clock, school, username="desk")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    first = make_asset(session, clock, school)
    second = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    clock.set(AT)
    file_check(session, clock, store, desk, first, "note-0001")
    clock.advance(timedelta(seconds=10))
    quick = file_check(session, clock, store, desk, second, "note-0002")
    clock.set(AT + timedelta(hours=1))

    explain_flags(session, admin, quick, "  两个灭火器挂在同一根柱子两侧  ", now=clock.now())
    ledger = _ledger(session, admin, school)
    flagged = _ledger(session, admin, school, filters=LedgerFilters(flagged=True))

    assert ledger.rows[1].flags  # still flagged
    assert (
        ledger.rows[1].explained
        == "已说明：两个灭火器挂在同一根柱子两侧（Admin，2026-03-02 09:30）"
    )
    assert ledger.rows[0].explained == ""
    assert [r.explained for r in flagged.rows] == [ledger.rows[1].explained]


def test_only_the_schools_administrators_explain_and_a_note_is_needed(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学", district=school.district)
    desk = make_person(session, clock, school, username="desk")
    stranger = make_person(session, clock, other, Role.SCHOOL_ADMIN, "stranger")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    record = file_check(
        session, clock, store, desk, make_asset(session, clock, school), "note-0003"
    )

    with pytest.raises(NotYourSchool):
        explain_flags(session, desk, record, "我自己说明", now=clock.now())
    with pytest.raises(NotYourSchool):
        explain_flags(session, stranger, record, "别校说明", now=clock.now())
    with pytest.raises(SubmissionInvalid) as blank:
        explain_flags(session, admin, record, "   ", now=clock.now())
    with pytest.raises(SubmissionInvalid) as long:
        explain_flags(session, admin, record, "长" * 501, now=clock.now())

    assert set(blank.value.errors) == {"note"}
    assert set(long.value.errors) == {"note"}
