"""Every bot command, from a linked chat of every role and from a chat no one linked, answers as
the table says, and no answer shows another school's or district's rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session
from telegram.ext import Application

from bot.door import NOT_LINKED
from bot.overview import ADMINS_ONLY
from models.catalogue import DEFAULT_LOCALE, translate
from models.clock import SettableClock
from models.notifications import Severity, notify
from models.people import Role
from models.sweep import sweep
from tests.bot.conftest import RunBot, nth_reply
from tests.factories import make_asset, make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram

ADMINS = {Role.SCHOOL_ADMIN.value, Role.DISTRICT_ADMIN.value}
ANSWERED, REFUSED, NOT_LINKED_ANSWER = "answered", "admins only", "not linked"
# Who gets an answer of their own; everyone else linked is refused; a chat no one linked is
# told how to link, and sees nothing else (/cancel only says there is nothing to drop).
COMMANDS: dict[str, tuple[set[str] | None, str]] = {
    "/help": (None, NOT_LINKED_ANSWER),
    "/due": (None, NOT_LINKED_ANSWER),
    "/alerts": (None, NOT_LINKED_ANSWER),
    "/digest": (ADMINS, NOT_LINKED_ANSWER),
    "/stats": (ADMINS, NOT_LINKED_ANSWER),
    "/close": (None, NOT_LINKED_ANSWER),
    "/report": (None, NOT_LINKED_ANSWER),
    "/cancel": (None, ANSWERED),
}
UNLINKED_CHAT = 7999
SECRET_SCHOOL, SECRET_ASSET, SECRET_ALERT = "第二小学", "B-MHQ-404", "二校锅炉房漏水"


def test_every_command_answers_every_role_and_shows_no_other_schools_rows(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    first = make_school(session, "A1", "实验小学")
    second = make_school(session, "B1", SECRET_SCHOOL, district=first.district)
    elsewhere = make_school(session, "C1", "邻区小学")
    chats: dict[str, int] = {}
    # Every role at the first school; the district administrator is another district's.
    for number, role in enumerate(Role):
        school = elsewhere if role == Role.DISTRICT_ADMIN else first
        person = make_person(session, clock, school, role, role.value)
        if school == first:
            make_asset(session, clock, first, code=f"A-MHQ-{number:03d}", responsible=person)
        chats[role.value] = 7100 + number
        make_chat(session, person, chats[role.value], clock.now())
    stranger = make_person(session, clock, second, Role.SCHOOL_ADMIN, "stranger")
    make_asset(session, clock, second, code=SECRET_ASSET, responsible=stranger)
    notify(
        session,
        [stranger],
        message=SECRET_ALERT,
        params={},
        severity=Severity.CRITICAL,
        dedup_key="secret",
        now=clock.now(),
    )
    sweep(session, now=clock.now())
    clock.set(clock.now() + timedelta(days=24))  # the extinguishers' checks are overdue
    sweep(session, now=clock.now())
    session.commit()
    not_linked = translate(DEFAULT_LOCALE, NOT_LINKED)
    admins_only = translate(DEFAULT_LOCALE, ADMINS_ONLY)
    wrong: list[str] = []
    senders = {**chats, "unlinked": UNLINKED_CHAT}

    async def scenario(application: Application) -> None:
        for count, (command, (who, unlinked)) in enumerate(COMMANDS.items(), start=1):
            for chat in senders.values():
                fake.user_says(chat, command)
            for subject, chat in senders.items():
                reply = await nth_reply(fake, chat, count)
                if subject == "unlinked":
                    want = unlinked
                else:
                    want = ANSWERED if who is None or subject in who else REFUSED
                got = (
                    NOT_LINKED_ANSWER
                    if reply == not_linked
                    else REFUSED
                    if reply == admins_only
                    else ANSWERED
                )
                if got != want:
                    wrong.append(f"{command} {subject}: {got} ≠ {want}: {reply[:80]}")
                for secret in (SECRET_SCHOOL, SECRET_ASSET, SECRET_ALERT):
                    if secret in reply:
                        wrong.append(f"{command} {subject} reads {secret}")

    run_bot(scenario)
    tried = len(COMMANDS) * len(senders)
    print(f"bot authorization cases: {tried}")
    assert not wrong, "\n".join(wrong)
