"""A unit of work keeps what its block wrote, unless an exception escaped the block."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.org import School
from models.unit_of_work import unit_of_work
from tests.factories import make_school


def _school_codes(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(School.code)))


def test_a_block_that_ends_is_committed(session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as session:
        make_school(session, code="KEPT")

    assert _school_codes(session_factory) == ["KEPT"]


def test_a_block_an_exception_escapes_is_rolled_back(
    session_factory: sessionmaker[Session],
) -> None:
    with pytest.raises(RuntimeError), unit_of_work(session_factory) as session:
        make_school(session, code="LOST")
        raise RuntimeError("the job failed half way")

    assert _school_codes(session_factory) == []


def test_a_refusal_answered_inside_the_block_keeps_what_it_meant_to_keep(
    session_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(session_factory) as session:
        make_school(session, code="ALERT")  # what the refusal raised, like a bus's alert
        try:
            raise ValueError("refused")
        except ValueError:
            pass  # answered: a reply in the chat, a form shown again

    assert _school_codes(session_factory) == ["ALERT"]
