"""Published scores: a district administrator freezes a term's (or year's) ranking, so the
figures the awards and the schools' evaluation rest on no longer move when a record is edited
later. Each publication is a row of its own, holding every school's points, grade, rank and
each indicator's value, weight and lost points, with the scheme version; publishing again adds
a row, so the history says who published what, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.messages import N_, DomainError, Message
from models.org import District, School
from models.people import Person, visible_school_ids
from models.periods import Period, PeriodKind
from models.plausibility import DEFAULT_PHOTO_OLDER, DEFAULT_WITHIN
from models.score import (
    INDICATORS,
    Figures,
    Line,
    Ranked,
    Scheme,
    Score,
    compute_score,
    rank,
    school_figures,
)


class PublishedScore(Base):
    """One publication of a district's scores for a period: the ranking as it stood."""

    __tablename__ = "published_score"
    __table_args__ = (
        Index("ix_published_score_period", "district_id", "period_kind", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    period_kind: Mapped[str] = mapped_column(String(8))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    scheme_version: Mapped[int]
    # Per school: code, name, rank, total, band, lines [[key, good, of, weight, points, lost]]
    # and the on-time tasks per duty kind.
    results: Mapped[list[Any]]
    published_at: Mapped[datetime]
    published_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))

    published_by: Mapped[Person] = relationship(lazy="joined")


class PublishRefused(DomainError):
    """The person may not publish the district's scores."""


def publish_scores(
    session: Session,
    actor: Person,
    district: District,
    period: Period,
    scheme: Scheme,
    *,
    now: datetime,
    implausible_within: timedelta = DEFAULT_WITHIN,
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> PublishedScore:
    """Freeze every school of the district's score for the period as it stands now; only the
    district's administrators may. An earlier publication of the period stays, as history."""
    if not actor.is_district_admin_of(district.id):
        raise PublishRefused(Message(N_("Only the district's administrators publish scores.")))
    schools = list(
        session.scalars(
            select(School).where(School.district_id == district.id).order_by(School.code)
        )
    )
    figures = school_figures(
        session,
        schools,
        period,
        district,
        scheme,
        now,
        by_duty=True,
        implausible_within=implausible_within,
        photo_older=photo_older,
    )
    ranked = rank([(s, compute_score(s.id, figures[s.id], scheme)) for s in schools])
    row = PublishedScore(
        district_id=district.id,
        period_kind=period.kind.value,
        starts_on=period.start,
        ends_on=period.end,
        scheme_version=scheme.version,
        results=[_stored(r, figures[r.school.id]) for r in ranked],
        published_at=now,
        published_by_id=actor.id,
    )
    session.add(row)
    session.flush()
    return row


def _stored(ranked: Ranked, figures: Figures) -> dict[str, Any]:
    score = ranked.score
    return {
        "school_id": ranked.school.id,
        "code": ranked.school.code,
        "name": ranked.school.name,
        "rank": ranked.rank,
        "total": score.total,
        "band": score.band,
        "lines": [
            [line.key, line.good, line.of, line.weight, line.points, line.lost]
            for line in score.lines
        ],
        "duties": {key: list(pair) for key, pair in figures.duties.items()},
    }


def publications(session: Session, district_id: int, period: Period) -> list[PublishedScore]:
    """The period's publications, newest first: the first is the one in force."""
    return list(
        session.scalars(
            select(PublishedScore)
            .where(
                PublishedScore.district_id == district_id,
                PublishedScore.period_kind == period.kind.value,
                PublishedScore.starts_on == period.start,
                PublishedScore.ends_on == period.end,
            )
            .order_by(PublishedScore.published_at.desc(), PublishedScore.id.desc())
        )
    )


def latest_publication(session: Session, district_id: int, period: Period) -> PublishedScore | None:
    found = publications(session, district_id, period)
    return found[0] if found else None


def published_period(row: PublishedScore) -> Period:
    return Period(PeriodKind(row.period_kind), row.starts_on, row.ends_on)


def _score(entry: dict[str, Any], version: int) -> Score:
    lines = [
        Line(k, good, of, weight, points, lost)
        for k, good, of, weight, points, lost in entry["lines"]
    ]
    lines.sort(key=lambda line: INDICATORS.index(line.key) if line.key in INDICATORS else 99)
    return Score(entry["school_id"], entry["total"], entry["band"], lines, version)


def published_ranking(session: Session, viewer: Person, row: PublishedScore) -> list[Ranked]:
    """The publication's ranking as it was stored, limited to the schools the viewer sees."""
    entries = {entry["school_id"]: entry for entry in row.results}
    schools = {
        school.id: school
        for school in session.scalars(
            select(School).where(
                School.id.in_(list(entries)), School.id.in_(visible_school_ids(viewer))
            )
        )
    }
    return [
        Ranked(entry["rank"], schools[entry["school_id"]], _score(entry, row.scheme_version))
        for entry in row.results
        if entry["school_id"] in schools
    ]


@dataclass(frozen=True)
class PublishedSchool:
    """One school's entry of a publication: its rank, score and per-duty figures."""

    rank: int | None
    score: Score
    figures: Figures


def published_school(row: PublishedScore, school_id: int) -> PublishedSchool | None:
    for entry in row.results:
        if entry["school_id"] == school_id:
            score = _score(entry, row.scheme_version)
            figures = Figures(
                counts={line.key: (line.good, line.of) for line in score.lines},
                duties={key: (pair[0], pair[1]) for key, pair in entry["duties"].items()},
            )
            return PublishedSchool(entry["rank"], score, figures)
    return None
