"""The one transaction rule every door follows: commit unless an exception escaped.

A job, a command, a Telegram update and a web request each run in one unit of work. The
domain flushes and never commits; a refusal the door answers (a form shown again, a reply
in the chat) is no exception escaping, so what the refusal meant to keep (an overloaded
bus's alert, a wrong password's count) is committed with the answer. A domain operation
that refuses therefore writes nothing else: it checks before it writes, or writes in a
savepoint of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from models.audit import Origin, set_origin


@contextmanager
def unit_of_work(factory: sessionmaker[Session], origin: Origin | None = None) -> Iterator[Session]:
    """A session whose work is committed when the block ends, rolled back if it raised;
    `origin` says where its changes come from, for the audit log."""
    session = factory()
    if origin is not None:
        set_origin(session, origin)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
