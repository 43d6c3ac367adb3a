"""A record is flagged implausible, never refused: the same person at another asset a few
seconds after their last record, or a meter reading below the one before it. The ledger says
why in words, its "flagged only" filter and the dashboard count the same records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.dashboard import Span, school_dashboard
from models.ledgers import LedgerFilters, build_ledger
from models.people import Role
from models.periods import PeriodKind, period_of
from models.photos import PhotoStore
from models.records import Channel, Upload, submit_record
from models.score import Scheme, losses, school_figures
from tests.factories import (
    EXTINGUISHER_OK,
    distinct_jpeg,
    file_check,
    make_asset,
    make_person,
    make_record_row,
    make_school,
    template_for,
)

AT = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai


def _ledger(session, admin, school, **more):  # type: ignore[no-untyped-def]
    return build_ledger(
        session,
        admin,
        district=school.district,
        school=school,
        period=period_of(PeriodKind.MONTH, AT.date()),
        locale="zh_CN",
        **more,
    )


def _flagged_on_dashboard(session, school, **more) -> int:  # type: ignore[no-untyped-def]
    span = Span(AT.date().replace(day=1), AT.date().replace(day=31))
    board = school_dashboard(session, [school], span, now=AT + timedelta(days=40), **more)
    [figures] = board.schools
    return figures.flagged


def test_a_record_at_another_asset_seconds_after_the_same_persons_last_is_flagged(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    desk = make_person(session, clock, school, username="desk")
    other = make_person(session, clock, school, username="other")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    first = make_asset(session, clock, school)
    second = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    third = make_asset(session, clock, school, code="MHQ-003", name="三楼灭火器")

    def file(person, asset, key: str, after: int) -> None:  # type: ignore[no-untyped-def]
        clock.set(AT + timedelta(seconds=after))
        file_check(session, clock, store, person, asset, key)

    file(desk, first, "quick-0001", 0)
    file(desk, second, "quick-0002", 12)  # 12 s after another asset: flagged
    file(desk, second, "quick-0003", 40)  # the same asset again: not
    file(desk, third, "quick-0004", 75)  # 35 s on: not
    file(other, first, "quick-0005", 80)  # another person: not
    session.flush()

    ledger = _ledger(session, admin, school)
    flagged = _ledger(session, admin, school, filters=LedgerFilters(flagged=True))
    relaxed = _ledger(session, admin, school, implausible_within=timedelta(seconds=60))

    assert [(r.asset_code, r.flags) for r in ledger.rows] == [
        ("MHQ-001", ()),
        ("MHQ-002", ("距同一人上一条记录（一楼东侧灭火器 MHQ-001，同一楼层）仅 12 秒",)),
        ("MHQ-002", ()),
        ("MHQ-003", ()),
        ("MHQ-001", ()),
    ]
    assert [r.flags for r in flagged.rows] == [ledger.rows[1].flags]
    assert [bool(r.flags) for r in relaxed.rows] == [False, True, False, True, False]
    assert relaxed.rows[3].flags == (
        "距同一人上一条记录（二楼西侧灭火器 MHQ-002，同一楼层）仅 35 秒",
    )
    assert _flagged_on_dashboard(session, school) == 1
    assert _flagged_on_dashboard(session, school, implausible_within=timedelta(seconds=60)) == 2
    assert _flagged_on_dashboard(session, school, implausible_within=timedelta(0)) == 0
    # The score's "records not flagged" counts the same records, and names the flagged one.
    month = period_of(PeriodKind.MONTH, AT.date())
    scheme = Scheme({"flags": 100}, {"A": 90})
    figures = school_figures(
        session, [school], month, school.district, scheme, AT + timedelta(days=40)
    )
    assert figures[school.id].counts["flags"] == (4, 5)
    lost = losses(session, school, month, AT + timedelta(days=40))["flags"]
    assert [(loss.asset_code, loss.at) for loss in lost] == [
        ("MHQ-002", AT + timedelta(seconds=12))
    ]


def test_a_meter_reading_below_the_one_before_is_flagged_unless_the_meter_was_replaced(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    reader = make_person(session, clock, school, username="reader")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    meter = make_asset(
        session, clock, school, AssetKind.METER, "DB-01", "教学楼总电表", meter_type="electricity"
    )

    def read(day: int, reading: int, **more: str) -> None:
        make_record_row(
            session,
            meter,
            reader,
            AT + timedelta(days=day),
            template_key="meter_reading",
            answers={"reading": reading, **more},
        )

    read(-5, 1000)  # February's reading, before the ledger's month
    read(0, 900)  # below it: flagged
    read(1, 950)  # above the one before: plausible
    read(2, 20, meter_replaced="yes", new_meter_start="0")  # a new meter: plausible
    read(3, 10)  # below the new meter's 20: flagged
    session.flush()

    ledger = _ledger(session, admin, school)
    flagged = _ledger(session, admin, school, filters=LedgerFilters(flagged=True))

    assert [r.flags for r in ledger.rows] == [
        ("读数 900 低于该表上一次读数（2026-02-25：1000）",),
        (),
        (),
        ("读数 10 低于该表上一次读数（2026-03-04：20）",),
    ]
    assert [r.at.day for r in flagged.rows] == [2, 5]
    assert _flagged_on_dashboard(session, school) == 2


def test_the_same_photo_flag_names_the_other_record_by_asset_and_time(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    inspector = make_person(session, clock, school)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    first = make_asset(session, clock, school)
    second = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    earlier = make_record_row(session, first, inspector, AT)
    make_record_row(session, second, inspector, AT + timedelta(hours=2), same_photo_as=earlier)

    ledger = _ledger(session, admin, school)

    assert ledger.rows[1].flags == ("与一楼东侧灭火器 MHQ-001 2026-03-02 08:30 的记录照片相同",)
    assert "记录 " not in ledger.rows[1].flags[0]  # no id an inspector cannot look up
    assert _flagged_on_dashboard(session, school) == 1


def test_a_photo_captured_hours_before_its_record_or_with_no_capture_time_is_flagged(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    inspector = make_person(session, clock, school)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    assets = [
        make_asset(session, clock, school, code=f"MHQ-00{n}", name=f"{n}号灭火器")
        for n in range(1, 5)
    ]

    def file(asset, key: str, after_hours: int, taken_at: str | None, channel=Channel.WEB):  # type: ignore[no-untyped-def]
        clock.set(AT + timedelta(hours=after_hours))
        submit_record(
            session,
            actor=inspector,
            asset=asset,
            template=template_for(session, "extinguisher_monthly"),
            answers=EXTINGUISHER_OK,
            uploads=[Upload("photo", distinct_jpeg(key, (200, 150)), taken_at=taken_at)],
            key=key,
            channel=channel,
            clock=clock,
            store=store,
        )

    # Filed at 11:30 in Shanghai with a photo taken at 09:12: over two hours before.
    file(assets[0], "old-0001", 3, (AT + timedelta(minutes=42)).isoformat())
    file(assets[1], "old-0002", 4, (AT + timedelta(hours=4, minutes=-5)).isoformat())
    file(assets[2], "old-0003", 5, None)  # from the album, or a screenshot
    file(assets[3], "old-0004", 6, None, Channel.BOT)  # Telegram strips every photo's time
    session.flush()

    ledger = _ledger(session, admin, school)
    flagged = _ledger(session, admin, school, filters=LedgerFilters(flagged=True))
    relaxed = _ledger(session, admin, school, photo_older=timedelta(hours=4))
    english = build_ledger(
        session,
        admin,
        district=school.district,
        school=school,
        period=period_of(PeriodKind.MONTH, AT.date()),
        locale="en",
    )

    assert [r.flags for r in ledger.rows] == [
        ("照片拍摄于 2 小时前（09:12）",),
        (),
        ("照片没有拍摄时间（可能来自相册或截图）",),
        (),
    ]
    assert english.rows[0].flags == ("Photo taken 2 hours ago (09:12)",)
    assert [r.asset_code for r in flagged.rows] == ["MHQ-001", "MHQ-003"]
    assert relaxed.rows[0].flags == ()
    assert _flagged_on_dashboard(session, school) == 2
    assert _flagged_on_dashboard(session, school, photo_older=timedelta(0)) == 0


def test_the_same_label_filed_again_within_a_minute_with_other_answers_is_flagged(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    inspector = make_person(session, clock, school)
    other = make_person(session, clock, school, username="other")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    asset = make_asset(session, clock, school)
    failing = {**EXTINGUISHER_OK, "gauge_green": "fail"}

    def file(person, key: str, after: int, answers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
        clock.set(AT + timedelta(seconds=after))
        file_check(session, clock, store, person, asset, key, answers)

    file(inspector, "again-0001", 0, failing)
    file(inspector, "again-0002", 40, EXTINGUISHER_OK)  # failed, then passed 40 s on: flagged
    file(inspector, "again-0003", 70, EXTINGUISHER_OK)  # the same answers again: not
    file(other, "again-0004", 80, failing)  # another person: not
    file(inspector, "again-0005", 200, failing)  # two minutes on: not
    session.flush()

    ledger = _ledger(session, admin, school)
    flagged = _ledger(session, admin, school, filters=LedgerFilters(flagged=True))

    assert [r.flags for r in ledger.rows] == [
        (),
        ("同一人 40 秒前在此标签提交过不同的答案（08:30:00）",),
        (),
        (),
        (),
    ]
    assert [r.at for r in flagged.rows] == [ledger.rows[1].at]
    assert _flagged_on_dashboard(session, school) == 1


def test_the_quick_succession_allows_the_walk_to_another_floor_or_building(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    desk = make_person(session, clock, school, username="desk")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")

    def at(code: str, building: str, floor: str):  # type: ignore[no-untyped-def]
        asset = make_asset(session, clock, school, code=code, name=f"{building}{floor}灭火器")
        assert asset.location is not None
        asset.location.building, asset.location.floor = building, floor
        return asset

    walk = [
        (at("MHQ-001", "教学楼", "1层"), 0),
        (at("MHQ-002", "教学楼", "1层"), 25),  # the same floor in 25 s: flagged (30 s)
        (at("MHQ-003", "教学楼", "2层"), 50),  # upstairs in 50 s: flagged (60 s)
        (at("MHQ-004", "教学楼", "2层"), 40),  # the same floor in 40 s: not
        (at("MHQ-005", "教学楼", "3层"), 90),  # upstairs in 90 s: not
        (at("MHQ-006", "实验楼", "1层"), 150),  # another building in 150 s: flagged (180 s)
        (at("MHQ-007", "教学楼", "1层"), 200),  # back in 200 s: not
    ]
    after = 0
    for n, (asset, gap) in enumerate(walk):
        after += gap
        clock.set(AT + timedelta(seconds=after))
        file_check(session, clock, store, desk, asset, f"walk-{n:04d}")
    session.flush()

    ledger = _ledger(session, admin, school)

    assert [r.flags for r in ledger.rows] == [
        (),
        ("距同一人上一条记录（教学楼1层灭火器 MHQ-001，同一楼层）仅 25 秒",),
        ("距同一人上一条记录（教学楼1层灭火器 MHQ-002，不同楼层）仅 50 秒",),
        (),
        (),
        ("距同一人上一条记录（教学楼3层灭火器 MHQ-005，不同楼栋）仅 150 秒",),
        (),
    ]
    assert _flagged_on_dashboard(session, school) == 3
    assert _flagged_on_dashboard(session, school, implausible_within=timedelta(seconds=10)) == 0


def test_thirty_extinguishers_on_three_floors_in_two_minutes_are_flagged(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    desk = make_person(session, clock, school, username="desk")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    for n in range(30):
        asset = make_asset(session, clock, school, code=f"MHQ-{n:03d}", name=f"{n}号灭火器")
        assert asset.location is not None
        asset.location.floor = f"{n // 10 + 1}层"
        clock.set(AT + timedelta(seconds=4 * n))
        file_check(session, clock, store, desk, asset, f"desk-{n:04d}")
    session.flush()

    flagged = _ledger(session, admin, school, filters=LedgerFilters(flagged=True))

    assert len(flagged.rows) == 29
    assert flagged.rows[9].flags == ("距同一人上一条记录（9号灭火器 MHQ-009，不同楼层）仅 4 秒",)
    assert _flagged_on_dashboard(session, school) == 29
