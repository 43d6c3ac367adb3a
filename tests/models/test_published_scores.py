"""Published scores: frozen when published, unmoved by later edits, republished with history,
and published only by the district's administrators."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from models.published_scores import (
    PublishRefused,
    latest_publication,
    publications,
    publish_scores,
    published_ranking,
    published_school,
)
from models.score import Scheme, district_ranking
from tests.factories import make_asset, make_district_admin, make_person, make_school, make_task
from tests.models.test_score import BANDS, MARCH

SCHEME = Scheme({"on_time": 100}, BANDS, version=0)
NOW = datetime(2026, 4, 2, tzinfo=UTC)


def _due(at_day: int) -> datetime:
    return datetime(2026, 3, at_day, 9, tzinfo=UTC)


def test_a_published_score_stays_as_it_was_when_a_record_changes_later(
    session: Session, clock: SettableClock
) -> None:
    first = make_school(session, "S1", "实验小学")
    second = make_school(session, "S2", "第二小学", district=first.district)
    extinguisher = make_asset(session, clock, first, code="MHQ-001", name="一楼灭火器")
    for day in (2, 3, 4):
        make_task(session, extinguisher, _due(day), "done", done_at=_due(day))
    missed = make_task(session, extinguisher, _due(5), "missed")
    idle = make_asset(session, clock, second, code="MHQ-101", name="食堂灭火器")
    make_task(session, idle, _due(2), "missed")
    district = make_district_admin(session, clock, first)

    row = publish_scores(session, district, first.district, MARCH, SCHEME, now=NOW)
    # Later the missed task is put right (a record filed late, say): the live score moves…
    missed.state, missed.done_at = "done", _due(5)
    session.flush()
    live = {
        r.school.code: r.score.total
        for r in district_ranking(session, district, first.district, MARCH, SCHEME, NOW)
    }
    frozen = published_ranking(session, district, row)

    assert live == {"S1": 100.0, "S2": 0.0}
    # …the published one does not: 3 of 4 on time is 75, first; the other school 0, second.
    assert [(r.rank, r.school.code, r.score.total, r.score.band) for r in frozen] == [
        (1, "S1", 75.0, "B"),
        (2, "S2", 0.0, "D"),
    ]
    entry = published_school(row, first.id)
    assert entry is not None
    on_time = next(line for line in entry.score.lines if line.key == "on_time")
    assert (on_time.good, on_time.of, on_time.weight, on_time.points, on_time.lost) == (
        3,
        4,
        100,
        75.0,
        25.0,
    )
    assert entry.figures.duties == {"extinguisher_monthly": (3, 4)}
    assert (row.scheme_version, row.published_by_id) == (0, district.id)


def test_publishing_again_keeps_the_earlier_publication_as_history(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1", "实验小学")
    asset = make_asset(session, clock, school, code="MHQ-001", name="一楼灭火器")
    task = make_task(session, asset, _due(2), "missed")
    first_admin = make_district_admin(session, clock, school)
    second_admin = make_district_admin(session, clock, school, "district2")

    earlier = publish_scores(session, first_admin, school.district, MARCH, SCHEME, now=NOW)
    task.state, task.done_at = "done", _due(2)
    session.flush()
    later_at = datetime(2026, 4, 3, tzinfo=UTC)
    later = publish_scores(session, second_admin, school.district, MARCH, SCHEME, now=later_at)

    history = publications(session, school.district_id, MARCH)
    assert [(p.published_by.username, p.published_at) for p in history] == [
        ("district2", later_at),
        ("district", NOW),
    ]
    assert latest_publication(session, school.district_id, MARCH) is later
    assert published_ranking(session, first_admin, earlier)[0].score.total == 0.0
    assert published_ranking(session, first_admin, later)[0].score.total == 100.0


def test_only_district_administrators_publish_and_a_school_sees_only_itself(
    session: Session, clock: SettableClock
) -> None:
    first = make_school(session, "S1", "实验小学")
    second = make_school(session, "S2", "第二小学", district=first.district)
    school_admin = make_person(session, clock, first, Role.SCHOOL_ADMIN, "admin")

    with pytest.raises(PublishRefused):
        publish_scores(session, school_admin, first.district, MARCH, SCHEME, now=NOW)
    row = publish_scores(
        session, make_district_admin(session, clock, first), first.district, MARCH, SCHEME, now=NOW
    )

    # Nothing fell due anywhere: both listed unranked (无数据), and the school sees only itself.
    assert [
        (r.rank, r.school.code, r.score.total)
        for r in published_ranking(session, school_admin, row)
    ] == [(None, "S1", None)]
    assert published_school(row, second.id) is not None
