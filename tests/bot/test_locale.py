"""The bot answers in the language the person reads: their own, else their district's."""

from __future__ import annotations

from sqlalchemy.orm import Session
from telegram.ext import Application

from models.clock import SettableClock
from models.org import District
from models.people import Role
from settings import Settings
from tests.bot.conftest import RunBot, nth_reply
from tests.factories import make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram

STAFF, CHOOSER, STRANGER = 7301, 7302, 7303


def test_the_bot_answers_in_the_districts_language_unless_the_person_chose_one(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    bot_settings: Settings,
    run_bot: RunBot,
) -> None:
    district = District(code="D-EN", name="District", locale="en", timezone="Europe/London")
    school = make_school(session, district=district)
    staff = make_person(session, clock, school, Role.TEACHER, "staff")
    chooser = make_person(session, clock, school, Role.TEACHER, "chooser")
    chooser.locale = "zh_CN"
    for person, chat in ((staff, STAFF), (chooser, CHOOSER)):
        make_chat(session, person, chat, clock.now())
    session.commit()
    bot_settings.i18n.default_locale = "en"

    async def scenario(application: Application) -> None:
        fake.user_says(STAFF, "/due")  # Telegram says Chinese; the district says English
        assert await nth_reply(fake, STAFF, 1) == "Nothing is due now. Well done!"
        fake.user_says(CHOOSER, "/due", language="en")
        assert await nth_reply(fake, CHOOSER, 1) == "目前没有到期的任务，做得好！"
        fake.user_says(STRANGER, "/due", language="")
        stranger = await nth_reply(fake, STRANGER, 1)
        assert stranger.startswith("This chat is not linked to Houqin.")

    run_bot(scenario)
