"""The sweep: tasks start and close on time, reminders and escalations go out once, a
scheduler that was down catches up with one summary, two sweeps at once queue nothing twice."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models.assets import Asset, AssetKind
from models.clock import SettableClock
from models.documents import Document
from models.duties import (
    CalendarEntry,
    Duty,
    DutyDefaults,
    DutyFields,
    Task,
    TaskState,
    TaskStatus,
    add_duty,
    district_calendar,
    update_duty,
)
from models.imports import run_import
from models.messages import SubmissionInvalid
from models.notifications import Notification
from models.org import School
from models.people import Person, Role
from models.photos import PhotoStore
from models.records import Channel, Upload, submit_record
from models.recurrence import Frequency, Rule
from models.sweep import (
    CATCH_UP,
    DIGEST,
    DUE,
    OVERDUE_DISTRICT,
    OVERDUE_SCHOOL,
    OVERDUE_SINCE_START,
    REMIND,
    SweepPolicy,
    school_figures,
    sweep,
)
from models.task_lists import tasks_for
from tests.factories import (
    EXTINGUISHER_OK,
    distinct_jpeg,
    make_asset,
    make_person,
    make_school,
    template_for,
)

SHANGHAI = 8  # hours ahead of UTC
DISINFECTED = {
    "inner_cleaned": "yes",
    "outlet_cleaned": "yes",
    "bottle_in_date": "yes",
    "disinfectant": "84消毒液",
}


def cst(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment in March 2026, given in Shanghai time."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=SHANGHAI)


class World:
    def __init__(self, session: Session, clock: SettableClock) -> None:
        self.session = session
        self.clock = clock
        self.school = make_school(session)
        self.staff = make_person(session, clock, self.school, Role.INSPECTOR, "staff")
        self.admin = make_person(session, clock, self.school, Role.SCHOOL_ADMIN, "admin")
        self.district = make_person(session, clock, self.school, Role.DISTRICT_ADMIN, "district")
        self.extinguisher = make_asset(session, clock, self.school, responsible=self.staff)
        session.flush()

    def sweep(self, at: datetime | None = None, **policy: object) -> list[Notification]:
        if at is not None:
            self.clock.set(at)
        report = sweep(self.session, now=self.clock.now(), policy=SweepPolicy(**policy))
        self.session.flush()
        return report.queued

    def file(self, asset: Asset, template_key: str, answers: dict[str, str], key: str) -> None:
        submit_record(
            self.session,
            actor=self.staff,
            asset=asset,
            template=template_for(self.session, template_key),
            answers=answers,
            uploads=[Upload("photo", distinct_jpeg(key))],
            key=key,
            channel=Channel.WEB,
            clock=self.clock,
            store=self.store,
        )

    def task(self, asset: Asset, template_key: str, **where: object) -> Task:
        return self.session.scalars(
            select(Task)
            .where(Task.asset_id == asset.id, Task.template_key == template_key)
            .filter_by(**where)
            .order_by(Task.due_at)
        ).first()

    def inbox(self, person: Person) -> list[tuple[str, str]]:
        rows = self.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == person.id)
            .order_by(Notification.id)
        )
        return [(n.message, n.text) for n in rows]


@pytest.fixture
def world(session: Session, clock: SettableClock, store: PhotoStore) -> World:
    world = World(session, clock)
    world.store = store  # type: ignore[attr-defined]
    return world


def _messages(pairs: list[tuple[str, str]]) -> list[str]:
    return [message for message, _ in pairs if message != DIGEST]


# --- tasks --------------------------------------------------------------------------------


def test_a_sweep_gives_each_extinguisher_this_months_check_and_a_scan_marks_it_done(
    world: World,
) -> None:
    world.sweep()

    task = world.task(world.extinguisher, "extinguisher_monthly")
    assert (task.opens_at, task.due_at, task.closes_at) == (
        cst(1, 0),
        cst(25, 17),
        cst(1, 0, month=4),
    )
    assert task.status(world.clock.now()) == TaskStatus.DUE

    world.file(world.extinguisher, "extinguisher_monthly", EXTINGUISHER_OK, "scan-0001")

    assert task.state == TaskState.DONE
    assert task.record_id is not None
    shown = tasks_for(world.session, world.staff, now=world.clock.now(), mine=True)
    assert [(t.template_key, t.status(world.clock.now())) for t in shown][-1] == (
        "extinguisher_monthly",
        TaskStatus.DONE,
    )


def test_a_record_just_inside_the_window_closes_it_and_one_just_after_counts_for_the_next(
    world: World,
) -> None:
    world.sweep()
    march = world.task(world.extinguisher, "extinguisher_monthly")

    world.clock.set(cst(1, 0, month=4) - timedelta(seconds=1))  # 31 March, 23:59:59
    world.file(world.extinguisher, "extinguisher_monthly", EXTINGUISHER_OK, "scan-0001")
    assert march.state == TaskState.DONE

    world.sweep(cst(1, 0, month=4))  # 1 April, 00:00: the first instant of April's window
    world.file(world.extinguisher, "extinguisher_monthly", EXTINGUISHER_OK, "scan-0002")
    april = world.task(world.extinguisher, "extinguisher_monthly", current=True)
    assert april.due_at == cst(25, 17, month=4)
    assert april.state == TaskState.DONE
    assert march.state == TaskState.DONE and not march.current


def test_a_record_filed_before_the_sweep_started_the_task_still_counts(world: World) -> None:
    world.file(world.extinguisher, "extinguisher_monthly", EXTINGUISHER_OK, "scan-0001")

    world.sweep(world.clock.now() + timedelta(minutes=5))

    assert world.task(world.extinguisher, "extinguisher_monthly").state == TaskState.DONE


def test_a_window_that_closes_undone_is_missed_and_the_next_one_starts(world: World) -> None:
    world.sweep()

    world.sweep(cst(1, 0, month=4))

    march = world.task(world.extinguisher, "extinguisher_monthly", due_at=cst(25, 17))
    assert march.state == TaskState.MISSED and not march.current
    assert world.task(world.extinguisher, "extinguisher_monthly", current=True).due_at == cst(
        25, 17, month=4
    )


def test_a_record_filed_in_a_windows_first_seconds_before_the_sweep_rolls_on_counts_for_it(
    world: World,
) -> None:
    second = make_asset(world.session, world.clock, world.school, code="MHQ-002")
    world.sweep()
    world.file(world.extinguisher, "extinguisher_monthly", EXTINGUISHER_OK, "scan-0001")

    world.clock.set(cst(1, 0, month=4) + timedelta(seconds=5))  # April's window, not its task
    world.file(world.extinguisher, "extinguisher_monthly", EXTINGUISHER_OK, "scan-0002")
    world.sweep(cst(1, 0, month=4) + timedelta(seconds=20))

    march = world.task(second, "extinguisher_monthly", due_at=cst(25, 17))
    assert march.state == TaskState.MISSED and not march.current
    april = world.task(world.extinguisher, "extinguisher_monthly", current=True)
    assert april.state == TaskState.DONE and april.done_at == cst(1, 0, month=4) + timedelta(
        seconds=5
    )
    assert april.status(world.clock.now()) == TaskStatus.DONE
    assert world.task(second, "extinguisher_monthly", current=True).state == TaskState.OPEN
    assert world.task(world.extinguisher, "extinguisher_monthly", due_at=cst(25, 17)).state == (
        TaskState.DONE
    )


def test_a_record_filed_while_the_scheduler_was_down_counts_for_the_window_it_fell_in(
    world: World,
) -> None:
    world.sweep()
    world.clock.set(cst(2, 10, month=4))  # no sweep since March
    world.file(world.extinguisher, "extinguisher_monthly", EXTINGUISHER_OK, "scan-0001")

    queued = world.sweep(cst(3, 9, month=4))

    april = world.task(world.extinguisher, "extinguisher_monthly", current=True)
    assert april.state == TaskState.DONE and april.record_id is not None
    march = world.task(world.extinguisher, "extinguisher_monthly", due_at=cst(25, 17))
    assert march.state == TaskState.MISSED
    assert [n.message for n in queued if n.recipient_id == world.staff.id] == [CATCH_UP]


def test_saving_a_schedule_unchanged_sends_no_false_alarm(world: World) -> None:
    world.sweep()
    world.sweep(cst(26, 17))  # a day overdue: the school's administrators were told
    duty = world.session.scalar(select(Duty).where(Duty.template_key == "extinguisher_monthly"))

    update_duty(
        world.session,
        world.district,
        duty,
        _fields(duty.recurrence, remind_before=duty.remind_before),
        now=cst(27, 10),
    )
    queued = world.sweep(cst(27, 10, 1))

    assert [n.message for n in queued if n.message != DIGEST] == []
    assert _messages(world.inbox(world.admin)) == [OVERDUE_SCHOOL]


def test_a_schedule_moved_later_restarts_the_task_without_replaying_old_notices(
    world: World,
) -> None:
    world.sweep()
    world.sweep(cst(26, 17))
    duty = world.session.scalar(select(Duty).where(Duty.template_key == "extinguisher_monthly"))

    update_duty(
        world.session,
        world.district,
        duty,
        _fields(Rule(Frequency.MONTHLY, at=time(17, 0), day=10)),
        now=cst(27, 10),
    )
    queued = world.sweep(cst(27, 10, 1))

    # Due on the 10th, long past: no catch-up summary, no new escalation from a stale moment.
    assert [n.message for n in queued if n.message != DIGEST] == []


def test_extinguishers_added_after_the_due_date_start_with_the_next_window_not_overdue(
    world: World,
) -> None:
    world.sweep()
    world.sweep(cst(26, 9))  # the first extinguisher's March check is a day overdue
    world.clock.set(cst(26, 10))
    imported = [
        make_asset(world.session, world.clock, world.school, code=f"MHQ-{n:03}", name=f"{n}号")
        for n in range(100, 130)
    ]
    world.sweep(cst(26, 10, 1))

    now = world.clock.now()
    for asset in imported:
        task = world.task(asset, "extinguisher_monthly", current=True)
        assert task.due_at == cst(25, 17, month=4)
        assert task.status(now) == TaskStatus.UPCOMING
    old = world.task(world.extinguisher, "extinguisher_monthly", current=True)
    assert old.status(now) == TaskStatus.OVERDUE
    calendar = district_calendar(world.session, world.school.district)
    figures = school_figures(world.session, [world.school.id], calendar, now.date(), now)
    assert figures[world.school.id]["overdue"] == 1


def test_an_import_of_many_extinguishers_after_the_due_date_adds_nothing_overdue(
    world: World,
) -> None:
    world.sweep()
    world.sweep(cst(26, 9))
    rows = ["编号,名称,类型,楼栋"] + [f"MHQ-{n:04},{n}号灭火器,灭火器,教学楼" for n in range(200)]
    world.clock.set(cst(26, 10))
    imported = run_import(
        world.session,
        "assets",
        school=world.school,
        actor=world.admin,
        data="\n".join(rows).encode(),
        now=world.clock.now(),
    )
    world.sweep(cst(26, 10, 1))

    now = world.clock.now()
    calendar = district_calendar(world.session, world.school.district)
    figures = school_figures(world.session, [world.school.id], calendar, now.date(), now)
    assert imported == 200
    assert figures[world.school.id]["overdue"] == 1  # the extinguisher that was there before


def test_an_asset_added_late_that_was_already_checked_keeps_this_windows_record(
    world: World,
) -> None:
    world.clock.set(cst(26, 10))
    late = make_asset(world.session, world.clock, world.school, code="MHQ-200")
    world.file(late, "extinguisher_monthly", EXTINGUISHER_OK, "scan-late")
    world.sweep()

    task = world.task(late, "extinguisher_monthly", current=True)
    assert (task.due_at, task.state) == (cst(25, 17), TaskState.DONE)


def test_overdue_before_the_sweep_first_saw_it_reaches_the_district_once_in_one_summary(
    world: World,
) -> None:
    other = make_school(world.session, code="S2", name="第二小学", district=world.school.district)
    make_asset(world.session, world.clock, other, code="MHQ-900")
    make_asset(world.session, world.clock, world.school, code="MHQ-002")
    policy = {"defaults": DutyDefaults(escalate_school_after=12 * 60, escalate_district_after=1440)}

    world.sweep(cst(28, 9), **policy)  # first sweep: due on the 25th, long past the district's day
    world.sweep(cst(29, 8, 59), **policy)
    assert _messages(world.inbox(world.district)) == []

    world.sweep(cst(29, 9), **policy)
    world.sweep(cst(29, 10), **policy)
    [(message, text)] = [m for m in world.inbox(world.district) if m[0] != DIGEST]
    assert message == OVERDUE_SINCE_START
    assert "实验小学：灭火器月度检查 ×2" in text and "第二小学：灭火器月度检查 ×1" in text


# --- reminders and escalation -----------------------------------------------------------------


def test_the_ladder_reminds_then_alerts_the_school_then_the_district_each_once(
    world: World,
) -> None:
    world.sweep()
    for moment in (cst(25, 15, 59), cst(25, 16), cst(25, 16, 1), cst(25, 17), cst(25, 17, 30)):
        world.sweep(moment)
    assert _messages(world.inbox(world.staff)) == [REMIND, DUE]
    assert _messages(world.inbox(world.admin)) == []

    world.sweep(cst(26, 17))  # a day overdue
    world.sweep(cst(26, 17, 1))
    assert _messages(world.inbox(world.admin)) == [OVERDUE_SCHOOL]
    assert _messages(world.inbox(world.district)) == []

    world.sweep(cst(28, 17))  # three days overdue
    assert _messages(world.inbox(world.district)) == [OVERDUE_DISTRICT]
    assert _messages(world.inbox(world.staff)) == [REMIND, DUE]


def test_notices_are_in_chinese_and_name_the_checklist_the_asset_and_the_local_due_time(
    world: World,
) -> None:
    world.sweep()

    world.sweep(cst(25, 16))

    [(_, text)] = world.inbox(world.staff)
    assert text.startswith("即将到期：灭火器月度检查 · MHQ-001 一楼东侧灭火器 · 03-25 17:00")


def test_a_notice_names_the_checklist_as_the_assets_district_has_it(world: World) -> None:
    from models.checklists import save_checklist, spec_from_json

    other = make_school(world.session, "S2")
    theirs = make_person(world.session, world.clock, other, Role.INSPECTOR, "theirs")
    make_asset(world.session, world.clock, other, code="MHQ-101", responsible=theirs)
    data = template_for(world.session, "extinguisher_monthly").spec.to_json()
    data["title"] = {"zh_CN": "本区灭火器检查", "en": "Our extinguisher check"}
    save_checklist(
        world.session,
        world.district,
        spec_from_json(data),
        district_id=world.school.district_id,
        editing="extinguisher_monthly",
        now=world.clock.now(),
    )
    world.sweep()

    world.sweep(cst(25, 16))

    [(_, ours)] = world.inbox(world.staff)
    [(_, their_text)] = world.inbox(theirs)
    assert ours.startswith("即将到期：本区灭火器检查 · MHQ-001")
    assert their_text.startswith("即将到期：灭火器月度检查 · MHQ-101")


def test_an_english_reader_gets_english(world: World) -> None:
    world.staff.locale = "en"
    world.sweep()

    world.sweep(cst(25, 16))

    [(_, text)] = world.inbox(world.staff)
    assert text.startswith("Due soon: Extinguisher monthly inspection · MHQ-001")


def test_once_done_nothing_more_is_sent(world: World) -> None:
    world.sweep()
    world.sweep(cst(26, 17))
    assert _messages(world.inbox(world.admin)) == [OVERDUE_SCHOOL]

    world.file(world.extinguisher, "extinguisher_monthly", EXTINGUISHER_OK, "scan-0001")
    world.sweep(cst(28, 17))

    assert _messages(world.inbox(world.district)) == []


def test_a_reminder_for_many_assets_is_one_notice_that_counts_them(world: World) -> None:
    for number in range(2, 13):
        make_asset(
            world.session,
            world.clock,
            world.school,
            code=f"MHQ-{number:03}",
            responsible=world.staff,
        )
    world.sweep()

    world.sweep(cst(25, 16))

    [(_, text)] = world.inbox(world.staff)
    assert text == "即将到期：灭火器月度检查 ×12"


def test_a_month_walked_hour_by_hour_sends_each_notice_once(world: World) -> None:
    """Staff disinfect the dispenser whenever it falls due and forget the extinguisher."""
    dispenser = make_asset(
        world.session,
        world.clock,
        world.school,
        AssetKind.WATER_DISPENSER,
        "YSJ-01",
        "饮水机",
        responsible=world.staff,
    )
    filed = 0
    moment = world.clock.now()
    while moment < cst(3, 0, month=4):
        queued = world.sweep(moment)
        if any(n.message == DUE and "饮水机" in n.text for n in queued):
            filed += 1
            world.file(
                dispenser, "water_dispenser_disinfection", DISINFECTED, f"dispenser-{filed:04}"
            )
        moment += timedelta(hours=1)

    dispenser_tasks = world.session.scalars(
        select(Task).where(Task.asset_id == dispenser.id).order_by(Task.due_at)
    ).all()
    assert filed == 4  # due 9, 16, 23 and 30 March, each done within the hour
    assert [t.state for t in dispenser_tasks[:4]] == [TaskState.DONE] * 4
    staff = _messages(world.inbox(world.staff))
    assert staff.count(REMIND) == 5 and staff.count(DUE) == 5  # four dispensers, one extinguisher
    assert _messages(world.inbox(world.admin)) == [OVERDUE_SCHOOL]
    assert _messages(world.inbox(world.district)) == [OVERDUE_DISTRICT]
    assert world.task(world.extinguisher, "extinguisher_monthly").state == TaskState.MISSED
    digests = [m for m, _ in world.inbox(world.admin) if m == DIGEST]
    assert len(digests) == 32  # every morning from 3 March to 3 April, none twice
    assert CATCH_UP not in staff


# --- catching up -----------------------------------------------------------------------------


def test_after_two_days_down_each_person_gets_one_summary_not_a_flood(world: World) -> None:
    dispensers = [
        make_asset(
            world.session,
            world.clock,
            world.school,
            AssetKind.WATER_DISPENSER,
            f"YSJ-{n}",
            f"{n}号饮水机",
            responsible=world.staff,
        )
        for n in range(6)
    ]
    daily = {"defaults": DutyDefaults(dispenser_every_days=1)}
    world.sweep(**daily)

    queued = world.sweep(world.clock.now() + timedelta(days=4), **daily)

    missed = world.session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.asset_id.in_([d.id for d in dispensers]), Task.state == TaskState.MISSED)
    )
    to_staff = [n for n in queued if n.recipient_id == world.staff.id]
    assert [n.message for n in to_staff] == [CATCH_UP]
    assert f"饮水机消毒记录：漏做 {missed} 次" in to_staff[0].text
    assert missed >= 6
    assert world.sweep(**daily) == []


def test_a_sweep_run_twice_at_the_same_moment_changes_nothing_the_second_time(
    world: World,
) -> None:
    world.sweep()
    first = world.sweep(cst(25, 16))
    tasks = world.session.scalar(select(func.count()).select_from(Task))

    assert world.sweep(cst(25, 16)) == []
    assert world.session.scalar(select(func.count()).select_from(Task)) == tasks
    assert first


def test_a_month_end_reports_as_many_tasks_started_as_it_made(world: World) -> None:
    for number in range(4):
        make_asset(world.session, world.clock, world.school, code=f"MHQ-{number + 10:03}")
    world.sweep()
    world.clock.set(cst(1, 0, 1, month=4))  # March's monthly checks end, April's start
    before = world.session.scalar(select(func.count()).select_from(Task))

    report = sweep(world.session, now=world.clock.now(), policy=SweepPolicy())

    made = world.session.scalar(select(func.count()).select_from(Task)) - before
    assert report.started == made >= 5 and report.closed >= 5


def test_two_sweeps_at_once_queue_every_notice_once(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    for number in range(30):
        make_asset(session, clock, school, code=f"MHQ-{number:03}", responsible=staff)
    sweep(session, now=clock.now())
    session.commit()

    moment = cst(26, 17)  # reminders, due notices and the school's alert all at once
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with session_factory() as own:
                barrier.wait()
                sweep(own, now=moment)
                own.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    session.expire_all()
    rows = session.execute(
        select(Notification.message, Notification.dedup_key).where(
            Notification.created_at == moment
        )
    ).all()
    assert sorted(m for m, _ in rows if m != DIGEST) == sorted(
        [CATCH_UP, OVERDUE_SCHOOL]  # the reminder and due notice came late: one summary
    )
    assert [key for m, key in rows if m == DIGEST] == ["digest:2026-03-26:school:1"]
    current = session.scalar(select(func.count()).select_from(Task).where(Task.current))
    assert current == 60  # 30 extinguishers × (monthly check, annual maintenance)
    session.commit()


# --- expiring documents -----------------------------------------------------------------------


def _certificate(world: World, expires_on: date) -> Document:
    document = Document(
        district_id=world.school.district_id,
        school_id=world.school.id,
        kind="health_certificate",
        title="健康证",
        person_id=world.staff.id,
        expires_on=expires_on,
        created_at=world.clock.now(),
    )
    world.session.add(document)
    world.session.flush()
    return document


def test_a_certificate_is_announced_30_7_and_1_days_ahead_and_on_the_day(world: World) -> None:
    _certificate(world, date(2026, 4, 20))
    said = []
    for day in range(60):
        moment = cst(2, 9) + timedelta(days=day)
        said += [n.text for n in world.sweep(moment) if n.recipient_id == world.staff.id]

    expiry = [text for text in said if "健康证" in text]
    assert expiry == [
        "健康证（Staff）将于 2026-04-20 到期，还有 30 天。",
        "健康证（Staff）将于 2026-04-20 到期，还有 7 天。",
        "健康证（Staff）将于 2026-04-20 到期，还有 1 天。",
        "健康证（Staff）今天到期。",
    ]
    assert any("健康证" in text for _, text in world.inbox(world.admin))


def test_a_sweep_that_missed_days_announces_the_nearest_step_once(world: World) -> None:
    _certificate(world, date(2026, 3, 12))

    first = world.sweep(cst(2, 9))  # 10 days ahead: the 30-day step
    later = world.sweep(cst(8, 9))  # 4 days ahead: the 7-day step, once
    again = world.sweep(cst(8, 10))

    def about(queued: list[Notification]) -> list[str]:
        return [n.text for n in queued if n.recipient_id == world.staff.id and "健康证" in n.text]

    assert about(first) == ["健康证（Staff）将于 2026-03-12 到期，还有 10 天。"]
    assert about(later) == ["健康证（Staff）将于 2026-03-12 到期，还有 4 天。"]
    assert about(again) == []


# --- digests ---------------------------------------------------------------------------------


def test_the_daily_digest_goes_out_once_after_its_local_time(world: World) -> None:
    world.sweep(cst(3, 7))
    assert DIGEST not in [m for m, _ in world.inbox(world.admin)]

    world.sweep(cst(3, 7, 30))
    world.sweep(cst(3, 8))

    digests = [text for m, text in world.inbox(world.admin) if m == DIGEST]
    assert digests == [
        "实验小学今日概况：今天到期 0 项，逾期 0 项，昨天漏做 0 项，"
        "待整改 0 项，7 天内到期证件 0 份。"
    ]
    district = [text for m, text in world.inbox(world.district) if m == DIGEST]
    assert len(district) == 1 and district[0].startswith("示范区今日概况")


# --- schedules ------------------------------------------------------------------------------


def _fields(rule: Rule, **overrides: object) -> DutyFields:
    values: dict[str, object] = {
        "rule": rule,
        "remind_before": 60,
        "escalate_school_after": 24 * 60,
        "escalate_district_after": 72 * 60,
    }
    values.update(overrides)
    return DutyFields(**values)  # type: ignore[arg-type]


def test_a_schools_own_schedule_replaces_the_districts_for_its_assets(world: World) -> None:
    other_school = make_school(world.session, code="S2", district=world.school.district)
    elsewhere = make_asset(world.session, world.clock, other_school, code="MHQ-900")
    world.sweep()

    weekly = Rule(Frequency.WEEKLY, at=time(16, 0), weekdays=(4,))
    add_duty(
        world.session,
        world.admin,
        template_key="extinguisher_monthly",
        fields=_fields(weekly),
        school=world.school,
        now=world.clock.now(),
    )
    world.sweep()

    here = world.task(world.extinguisher, "extinguisher_monthly", current=True)
    there = world.task(elsewhere, "extinguisher_monthly", current=True)
    assert here.due_at == cst(6, 16)  # Friday 6 March, 16:00
    assert there.due_at == cst(25, 17)


def test_changing_the_time_moves_the_open_task(world: World) -> None:
    world.sweep()
    duty = world.session.scalar(select(Duty).where(Duty.template_key == "extinguisher_monthly"))

    update_duty(
        world.session,
        world.district,
        duty,
        _fields(Rule(Frequency.MONTHLY, at=time(10, 0), day=20)),
        now=world.clock.now(),
    )
    world.sweep()

    assert world.task(world.extinguisher, "extinguisher_monthly", current=True).due_at == cst(
        20, 10
    )


def test_a_school_admin_cannot_change_the_districts_schedule_and_bad_rules_name_fields(
    world: World,
) -> None:
    world.sweep()
    duty = world.session.scalar(select(Duty).where(Duty.template_key == "extinguisher_monthly"))

    from models.duties import DutyRefused

    with pytest.raises(DutyRefused):
        update_duty(
            world.session, world.admin, duty, _fields(duty.recurrence), now=world.clock.now()
        )
    with pytest.raises(SubmissionInvalid) as invalid:
        update_duty(
            world.session,
            world.district,
            duty,
            _fields(Rule(Frequency.WEEKLY, weekdays=()), escalate_district_after=60),
            now=world.clock.now(),
        )
    assert set(invalid.value.errors) == {"weekdays", "escalate_district_after"}


def test_school_days_only_skips_the_holiday(world: World) -> None:
    canteen = make_asset(
        world.session, world.clock, world.school, AssetKind.CANTEEN, "ST-01", "食堂"
    )
    world.session.add(
        CalendarEntry(
            district_id=world.school.district_id,
            kind="holiday",
            starts_on=date(2026, 4, 4),
            ends_on=date(2026, 4, 6),
            name="清明节",
        )
    )
    world.sweep(cst(3, 9, month=4))  # Friday 3 April

    world.sweep(cst(4, 0, month=4))

    task = world.task(canteen, "canteen_morning_health_check", current=True)
    assert task.due_at == cst(7, 7, 30, month=4)  # Tuesday, after the Qingming holiday
    assert world.session.scalar(select(School).where(School.id == canteen.school_id))


def test_a_schools_completion_rate_is_the_share_done_of_what_fell_due() -> None:
    from models.sweep import Completion

    assert Completion(1, done=9, missed=3).rate == 75
    assert Completion(2, done=2, missed=1).rate == 67
    assert Completion(3, done=0, missed=0).rate == 100  # nothing fell due: nothing was missed
