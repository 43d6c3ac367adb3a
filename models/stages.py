"""A school's stage (学段): kindergarten, primary, junior or senior secondary, or one school
through several, and the grades it teaches, so its uniform and exercise-book orders offer
only those."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy.orm import Session

from models.audit import audit, differences, fields_of
from models.messages import N_, Message, SubmissionInvalid
from models.org import School
from models.people import Person
from models.suppliers import RegisterRefused, is_district_admin


class SchoolStage(enum.StrEnum):
    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    NINE_YEAR = "nine_year"
    COMPLETE_SECONDARY = "complete_secondary"
    TWELVE_YEAR = "twelve_year"


STAGE_LABELS = {
    SchoolStage.KINDERGARTEN: N_("Kindergarten"),
    SchoolStage.PRIMARY: N_("Primary school"),
    SchoolStage.JUNIOR: N_("Junior secondary school"),
    SchoolStage.SENIOR: N_("Senior secondary school"),
    SchoolStage.NINE_YEAR: N_("Nine-year school (primary and junior)"),
    SchoolStage.COMPLETE_SECONDARY: N_("Complete secondary school (junior and senior)"),
    SchoolStage.TWELVE_YEAR: N_("Twelve-year school"),
}

GRADE_LABELS = {
    "k1": N_("Kindergarten, first year"),
    "k2": N_("Kindergarten, second year"),
    "k3": N_("Kindergarten, final year"),
    "g1": N_("Grade 1"),
    "g2": N_("Grade 2"),
    "g3": N_("Grade 3"),
    "g4": N_("Grade 4"),
    "g5": N_("Grade 5"),
    "g6": N_("Grade 6"),
    "g7": N_("Grade 7"),
    "g8": N_("Grade 8"),
    "g9": N_("Grade 9"),
    "g10": N_("Grade 10"),
    "g11": N_("Grade 11"),
    "g12": N_("Grade 12"),
}
GRADES = tuple(GRADE_LABELS)

_KINDERGARTEN = ("k1", "k2", "k3")
_PRIMARY = ("g1", "g2", "g3", "g4", "g5", "g6")
_JUNIOR = ("g7", "g8", "g9")
_SENIOR = ("g10", "g11", "g12")
STAGE_GRADES = {
    SchoolStage.KINDERGARTEN: _KINDERGARTEN,
    SchoolStage.PRIMARY: _PRIMARY,
    SchoolStage.JUNIOR: _JUNIOR,
    SchoolStage.SENIOR: _SENIOR,
    SchoolStage.NINE_YEAR: _PRIMARY + _JUNIOR,
    SchoolStage.COMPLETE_SECONDARY: _JUNIOR + _SENIOR,
    SchoolStage.TWELVE_YEAR: _PRIMARY + _JUNIOR + _SENIOR,
}


def school_grades(school: School) -> tuple[str, ...]:
    """The grades the school teaches, by its stage; every grade while its stage is not set."""
    if school.stage in set(SchoolStage):
        return STAGE_GRADES[SchoolStage(school.stage)]
    return GRADES


def set_stage(
    session: Session, actor: Person, school: School, stage: str, *, now: datetime
) -> None:
    """The district's administrators say which stage a school is ("" for not set)."""
    if not is_district_admin(actor, school.district_id):
        raise RegisterRefused(Message(N_("Only the district's administrators can do this.")))
    if stage and stage not in set(SchoolStage):
        raise SubmissionInvalid({"stage": Message(N_("Choose the school's stage from the list."))})
    was = fields_of(school, ("stage",))
    school.stage = stage or None
    session.flush()
    before, after = differences(was, fields_of(school, ("stage",)))
    if before or after:
        audit(session, actor, "school.stage_set", school, before, after, now=now)
