"""Setting a person's address on a channel: validated per channel, one owner each."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models.addresses import ADDRESS_TAKEN, NOT_YOURS, AddressRefused, address_of, set_address
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.people import Role
from tests.factories import make_person, make_school


@pytest.mark.parametrize(
    "address",
    [
        "li@school",
        "li@@school.cn",
        "li school@school.cn",
        "li@school..cn",
        ".li@school.cn",
        "@x.cn",
    ],
)
def test_a_malformed_email_address_is_refused(
    session: Session, clock: SettableClock, address: str
) -> None:
    person = make_person(session, clock, make_school(session))
    with pytest.raises(SubmissionInvalid):
        set_address(session, person, person, "email", address, now=clock.now())
    assert address_of(session, person, "email") is None


def test_a_person_sets_their_own_email_once_per_address(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    li = make_person(session, clock, school, Role.TEACHER, "li")
    wang = make_person(session, clock, school, Role.TEACHER, "wang")
    set_address(session, li, li, "email", "Li.Ming@School.EDU.cn", now=clock.now())
    assert address_of(session, li, "email").address == "Li.Ming@school.edu.cn"  # type: ignore[union-attr]
    with pytest.raises(SubmissionInvalid) as taken:
        set_address(session, wang, wang, "email", "Li.Ming@school.edu.cn", now=clock.now())
    assert taken.value.errors["address"].msgid == ADDRESS_TAKEN
    with pytest.raises(AddressRefused) as not_yours:
        set_address(session, wang, li, "email", "wang@school.edu.cn", now=clock.now())
    assert not_yours.value.message.msgid == NOT_YOURS
