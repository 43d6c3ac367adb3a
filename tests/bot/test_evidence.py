"""Reminders answered with a photo, tasks chosen for a photo, alerts acknowledged, snoozes."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application

from channels.telegram.sender import OutboxSender
from models.assets import AssetKind
from models.clock import SettableClock
from models.duties import Task, TaskState
from models.ledgers import record_flags
from models.notifications import Delivery, Notification, Severity, notify
from models.people import Person, Role
from models.records import Record
from models.sweep import REMIND, sweep
from tests.bot.conftest import RunBot
from tests.factories import jpeg_bytes, make_asset, make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram

CHAT = 7001


def _link(session: Session, clock: SettableClock, person: Person, chat_id: int = CHAT) -> None:
    make_chat(session, person, chat_id, clock.now())
    session.flush()


@dataclass(frozen=True)
class Reminded:
    dispenser_id: int
    reminder_id: int
    task_id: int


def _reminded_dispenser(session: Session, clock: SettableClock) -> Reminded:
    """A dispenser whose linked keeper was just reminded it is due at 17:00 (it is 16:15)."""
    school = make_school(session)
    staff = make_person(session, clock, school, Role.DORM_STAFF, "staff")
    dispenser = make_asset(
        session, clock, school, AssetKind.WATER_DISPENSER, "YSJ-01", "一楼饮水机", responsible=staff
    )
    _link(session, clock, staff)
    sweep(session, now=clock.now())
    clock.set(clock.now() + timedelta(days=7, hours=7, minutes=45))
    sweep(session, now=clock.now())
    session.commit()
    reminder = session.scalars(select(Notification).where(Notification.message == REMIND)).one()
    reminded = Reminded(dispenser.id, reminder.id, reminder.task_ids[0])
    session.commit()  # a read on SQLite takes the write lock here; let the bot write
    return reminded


Drain = Callable[[], Awaitable[int]]
OutboxScenario = Callable[[Application, Drain], Awaitable[None]]
RunWithOutbox = Callable[[OutboxScenario], None]


@pytest.fixture
def run_with_outbox(
    run_bot: RunBot, session_factory: sessionmaker[Session], clock: SettableClock
) -> RunWithOutbox:
    """The bot run as run_bot runs it, its scenario handed the outbox's drain too: what sends
    the reminders and alerts the scenario answers."""

    def run(scenario: OutboxScenario) -> None:
        async def with_drain(application: Application) -> None:
            await scenario(application, OutboxSender(application.bot, session_factory, clock).drain)

        run_bot(with_drain)

    return run


def _wait(fake: FakeTelegram, count: int) -> list:
    return fake.wait_for(lambda sent: len(sent) >= count)


def test_a_reminder_answered_with_a_photo_closes_the_task(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    reminded = _reminded_dispenser(session, clock)
    task_id = reminded.task_id

    async def scenario(application: Application, drain: Drain) -> None:
        assert await drain() == 1
        [sent] = fake.sent_to(CHAT)
        buttons = [
            b["callback_data"]
            for row in sent.params["reply_markup"]["inline_keyboard"]
            for b in row
        ]
        assert buttons == [
            f"photo:{task_id}",
            f"report:{task_id}",
            f"snooze:{reminded.reminder_id}",
        ]
        fake.user_sends_photo(CHAT, jpeg_bytes((1200, 900)), reply_to=sent.message_id)
        answer = await asyncio.to_thread(_wait, fake, 2)
        assert answer[-1].text == "已记录：饮水机消毒记录 · YSJ-01 一楼饮水机。谢谢！"

    run_with_outbox(scenario)

    session.expire_all()
    task = session.get_one(Task, task_id)
    assert task.state == TaskState.DONE
    record = session.get_one(Record, task.record_id)
    assert record.channel == "bot" and record.asset_id == reminded.dispenser_id
    assert [p.item_key for p in record.photos] == ["photo"]
    session.commit()


def test_a_photo_without_context_asks_which_task_and_files_the_chosen_one(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.DORM_STAFF, "staff")
    make_asset(
        session, clock, school, AssetKind.WATER_DISPENSER, "YSJ-01", "一楼饮水机", responsible=staff
    )
    make_asset(session, clock, school, responsible=staff)  # an extinguisher: needs its form
    _link(session, clock, staff)
    sweep(session, now=clock.now())
    session.commit()
    task_id = session.scalar(
        select(Task.id).where(Task.template_key == "water_dispenser_disinfection")
    )
    session.commit()

    async def scenario(application: Application, drain: Drain) -> None:
        fake.user_sends_photo(CHAT, jpeg_bytes())
        [question] = await asyncio.to_thread(_wait, fake, 1)
        assert question.text == "这张照片是哪项任务的？"
        rows = question.params["reply_markup"]["inline_keyboard"]
        assert [b["callback_data"] for row in rows for b in row] == [f"photo:{task_id}"]
        fake.user_presses(CHAT, question.message_id, f"photo:{task_id}")
        answer = await asyncio.to_thread(_wait, fake, 2)
        assert answer[-1].text.startswith("已记录：饮水机消毒记录")

    run_with_outbox(scenario)

    session.expire_all()
    assert session.get_one(Task, task_id).state == TaskState.DONE
    session.commit()


def test_an_alert_is_acknowledged_with_its_button_and_the_web_knows_who_and_when(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    _link(session, clock, admin)
    [alert] = notify(
        session,
        [admin],
        message="%(bus)s: %(boarded)d children boarded but %(got_off)d got off. Check the bus now!",
        params={"bus": "1号校车", "boarded": 19, "got_off": 18},
        severity=Severity.CRITICAL,
        dedup_key="trip:1:mismatch",
        now=clock.now(),
    )
    session.commit()

    async def scenario(application: Application, drain: Drain) -> None:
        assert await drain() == 1
        [sent] = fake.sent_to(CHAT)
        [[button]] = sent.params["reply_markup"]["inline_keyboard"]
        assert button == {"text": "确认收到", "callback_data": f"ack:{alert.id}"}
        fake.user_presses(CHAT, sent.message_id, button["callback_data"])
        await asyncio.to_thread(
            fake.wait_for, lambda s: any(m.method == "editMessageReplyMarkup" for m in s)
        )

    run_with_outbox(scenario)

    session.expire_all()
    acknowledged = session.get_one(Notification, alert.id)
    assert acknowledged.acknowledged_at == clock.now()
    assert acknowledged.acknowledged_by_id == admin.id
    answers = [params for method, params in fake.calls if method == "answerCallbackQuery"]
    assert answers and answers[0]["text"].startswith("已确认")
    session.commit()


def test_snooze_sends_the_reminder_again_an_hour_later(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    reminded = _reminded_dispenser(session, clock)

    async def scenario(application: Application, drain: Drain) -> None:
        await drain()
        [sent] = fake.sent_to(CHAT)
        fake.user_presses(CHAT, sent.message_id, f"snooze:{reminded.reminder_id}")
        answered = await asyncio.to_thread(fake.wait_for_call, "answerCallbackQuery")
        assert answered["text"].startswith("已推迟")
        assert await drain() == 0  # not before the hour is up
        clock.advance(timedelta(hours=1))
        assert await drain() == 1

    run_with_outbox(scenario)

    again = fake.sent_to(CHAT)[-1]
    assert again.text == fake.sent_to(CHAT)[0].text
    session.expire_all()
    assert session.scalar(select(Delivery).where(Delivery.sent_at.is_(None))) is None
    session.commit()


def test_the_web_inbox_shows_who_acknowledged_an_alert_and_when(
    client, auth, session: Session, clock: SettableClock
) -> None:
    from models.notifications import acknowledge

    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    [alert] = notify(
        session,
        [admin],
        message="%(bus)s: %(boarded)d children boarded but %(got_off)d got off. Check the bus now!",
        params={"bus": "1号校车", "boarded": 19, "got_off": 18},
        severity=Severity.CRITICAL,
        dedup_key="trip:1:mismatch",
        now=clock.now(),
    )
    acknowledge(session, admin, alert.id, now=clock.now())
    session.commit()
    auth.login("admin")

    page = client.get("/inbox").get_data(as_text=True)

    assert "Admin 已于 03-02 08:30 确认" in page


def test_report_a_problem_from_a_reminder_goes_straight_to_describing_it(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    task_id = _reminded_dispenser(session, clock).task_id

    async def scenario(application: Application, drain: Drain) -> None:
        await drain()
        [sent] = fake.sent_to(CHAT)
        fake.user_presses(CHAT, sent.message_id, f"report:{task_id}")
        asked = await asyncio.to_thread(_wait, fake, 2)
        assert asked[-1].text == "YSJ-01 一楼饮水机 出了什么问题？请发消息描述。"
        fake.user_says(CHAT, "出水口漏水")
        await asyncio.to_thread(_wait, fake, 3)
        fake.user_says(CHAT, "/done")
        done = await asyncio.to_thread(_wait, fake, 4)
        assert done[-1].text.startswith("已上报：已为 YSJ-01 一楼饮水机 建立整改任务")

    run_with_outbox(scenario)


def test_a_photo_over_20_mb_for_a_reminder_is_refused_by_its_size_and_files_nothing(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    reminded = _reminded_dispenser(session, clock)

    async def scenario(application: Application, drain: Drain) -> None:
        assert await drain() == 1
        [sent] = fake.sent_to(CHAT)
        fake.user_sends_photo(CHAT, b"\xff" * (20 * 1024 * 1024 + 1), reply_to=sent.message_id)
        answer = await asyncio.to_thread(_wait, fake, 2)
        assert answer[-1].text == "照片超过 20 MB。"

    run_with_outbox(scenario)

    session.expire_all()
    assert session.get_one(Task, reminded.task_id).state == TaskState.OPEN
    session.commit()


def _reminder(session: Session, clock: SettableClock, person: Person, task_ids: list[int]) -> int:
    [notice] = notify(
        session,
        [person],
        message=REMIND,
        params={"tasks": "…"},
        severity=Severity.INFO,
        dedup_key=f"test:remind:{task_ids}",
        now=clock.now(),
        task_ids=task_ids,
    )
    session.commit()
    return notice.id


def _callbacks(sent) -> list[str]:
    rows = sent.params["reply_markup"]["inline_keyboard"]
    return [b.get("callback_data") or b.get("url") for row in rows for b in row]


def test_done_with_a_photo_is_offered_only_where_a_photo_closes_the_task_named_by_asset(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.DORM_STAFF, "staff")
    for code, name in (("YSJ-01", "一楼饮水机"), ("YSJ-02", "二楼饮水机")):
        make_asset(session, clock, school, AssetKind.WATER_DISPENSER, code, name, responsible=staff)
    make_asset(session, clock, school, responsible=staff)  # an extinguisher: needs its form
    _link(session, clock, staff)
    sweep(session, now=clock.now())
    tasks = {t.asset.code: t for t in session.scalars(select(Task))}
    first, second, extinguisher = (tasks[c] for c in ("YSJ-01", "YSJ-02", "MHQ-001"))
    second.state = TaskState.DONE  # done since the reminder was queued
    _reminder(session, clock, staff, [extinguisher.id])
    several = _reminder(session, clock, staff, [first.id, second.id, extinguisher.id])
    ids = first.id, extinguisher.id

    async def scenario(application: Application, drain: Drain) -> None:
        assert await drain() == 2
        one, many = fake.sent_to(CHAT)
        assert _callbacks(one) == [f"report:{ids[1]}", _callbacks(one)[1]]  # no photo:
        assert many.params["reply_markup"]["inline_keyboard"][0] == [
            {"text": "已完成，发照片: YSJ-01 一楼饮水机", "callback_data": f"photo:{ids[0]}"}
        ]
        assert _callbacks(many)[1:] == [f"snooze:{several}"]
        fake.user_sends_photo(CHAT, jpeg_bytes(), reply_to=many.message_id)
        [*_, question] = await asyncio.to_thread(_wait, fake, 3)
        assert question.text == "这张照片是哪项任务的？"
        assert question.params["reply_markup"]["inline_keyboard"] == [
            [{"text": "YSJ-01 一楼饮水机", "callback_data": f"photo:{ids[0]}"}]
        ]

    run_with_outbox(scenario)


def test_acknowledging_removes_only_its_button_and_the_others_stay(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    reminded = _reminded_dispenser(session, clock)
    staff = session.get_one(Notification, reminded.reminder_id).recipient
    [alert] = notify(
        session,
        [staff],
        message=REMIND,
        params={"tasks": "…"},
        severity=Severity.MAJOR,
        dedup_key="test:major",
        now=clock.now(),
        task_ids=[reminded.task_id],
    )
    session.commit()
    task_id, alert_id = reminded.task_id, alert.id

    async def scenario(application: Application, drain: Drain) -> None:
        await drain()
        sent = fake.sent_to(CHAT)[-1]
        markup = sent.params["reply_markup"]
        assert _callbacks(sent)[-1] == f"ack:{alert_id}"
        fake.user_presses(CHAT, sent.message_id, f"ack:{alert_id}", markup=markup)
        await asyncio.to_thread(
            fake.wait_for, lambda s: any(m.method == "editMessageReplyMarkup" for m in s)
        )

    run_with_outbox(scenario)

    [edit] = [m for m in fake.sent if m.method == "editMessageReplyMarkup"]
    rows = edit.params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in rows for b in row] == [
        f"photo:{task_id}",
        f"report:{task_id}",
        f"snooze:{alert_id}",
    ]


def test_snoozing_twice_is_answered_and_a_reminder_whose_task_was_done_meanwhile_stays_away(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    reminded = _reminded_dispenser(session, clock)

    async def scenario(application: Application, drain: Drain) -> None:
        await drain()
        [sent] = fake.sent_to(CHAT)
        for _ in range(2):
            fake.user_presses(CHAT, sent.message_id, f"snooze:{reminded.reminder_id}")
        await asyncio.to_thread(
            fake.wait_for,
            lambda s: len([c for c, _ in fake.calls if c == "answerCallbackQuery"]) >= 2,
        )
        answers = [p["text"] for c, p in fake.calls if c == "answerCallbackQuery"]
        assert len(answers) == 2 and all(a.startswith("已推迟") for a in answers)
        fake.user_sends_photo(CHAT, jpeg_bytes(), reply_to=sent.message_id)  # done meanwhile
        await asyncio.to_thread(_wait, fake, 2)
        clock.advance(timedelta(hours=1))
        assert await drain() == 0

    run_with_outbox(scenario)

    assert len(fake.sent_to(CHAT)) == 2  # the reminder and "已记录", nothing again
    session.expire_all()
    assert session.scalar(select(Delivery).where(Delivery.sent_at.is_(None))) is None
    session.commit()


def _camera_jpeg(taken_local: datetime) -> bytes:
    """A phone camera's JPEG with its capture time (EXIF DateTimeOriginal, local time)."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken_local.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), "teal").save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_sent_as_a_file_keeps_its_capture_time_and_the_message_time_is_the_phones(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    reminded = _reminded_dispenser(session, clock)
    now = clock.now()
    taken = now - timedelta(hours=3)  # an old picture, sent uncompressed from the album
    sent_at = now - timedelta(minutes=20)  # the bot was down; the chat kept the message
    zone = ZoneInfo("Asia/Shanghai")

    async def scenario(application: Application, drain: Drain) -> None:
        assert await drain() == 1
        [reminder] = fake.sent_to(CHAT)
        fake.user_sends_photo(
            CHAT,
            _camera_jpeg(taken.astimezone(zone)),
            reply_to=reminder.message_id,
            sent_at=sent_at,
            as_document=True,
        )
        answer = await asyncio.to_thread(_wait, fake, 2)
        assert answer[-1].text.startswith("已记录：饮水机消毒记录")

    run_with_outbox(scenario)

    session.expire_all()
    record = session.get_one(Record, session.get_one(Task, reminded.task_id).record_id)
    assert record.phone_at == sent_at.replace(microsecond=0)
    assert record.photos[0].photo.taken_at == taken.replace(microsecond=0)
    flags = record_flags(session, record, locale="zh_CN")
    assert any("3 小时前" in flag for flag in flags), flags
    session.commit()


def test_a_forwarded_photo_files_the_task_and_is_flagged_with_when_it_was_first_sent(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_with_outbox: RunWithOutbox,
) -> None:
    reminded = _reminded_dispenser(session, clock)
    first_sent = clock.now() - timedelta(days=2)

    async def scenario(application: Application, drain: Drain) -> None:
        assert await drain() == 1
        [reminder] = fake.sent_to(CHAT)
        fake.user_sends_photo(
            CHAT, jpeg_bytes(), reply_to=reminder.message_id, forwarded_from=first_sent
        )
        answer = await asyncio.to_thread(_wait, fake, 2)
        assert answer[-1].text.startswith("已记录：饮水机消毒记录")

    run_with_outbox(scenario)

    session.expire_all()
    record = session.get_one(Record, session.get_one(Task, reminded.task_id).record_id)
    assert record.forwarded_at == first_sent.replace(microsecond=0)
    local = first_sent.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    flags = record_flags(session, record, locale="zh_CN")
    assert f"照片是从别的聊天转发来的（最初发送于 {local}）" in flags, flags
    session.commit()
