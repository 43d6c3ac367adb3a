"""Energy use by month, per meter and per school, beside the same month a year before."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.energy import energy_use, months_up_to
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, Upload, submit_record
from tests.factories import jpeg_bytes, make_asset, make_person, make_school, template_for

MARCH, APRIL, FEBRUARY = date(2026, 3, 1), date(2026, 4, 1), date(2026, 2, 1)


def test_use_per_meter_and_school_by_month_with_the_change_from_last_year(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    reader = make_person(session, clock, school, Role.SCHOOL_ADMIN, "reader")
    main = make_asset(
        session, clock, school, AssetKind.METER, "DB-01", "教学楼总电表", meter_type="electricity"
    )
    canteen = make_asset(
        session, clock, school, AssetKind.METER, "DB-02", "食堂电表", meter_type="electricity"
    )
    water = make_asset(
        session, clock, school, AssetKind.METER, "SB-01", "总水表", meter_type="water"
    )
    readings = [
        (main, date(2025, 3, 1), 1000),
        (main, date(2025, 4, 1), 1310),  # March 2025: 310 kWh
        (main, date(2026, 3, 1), 5000),
        (canteen, date(2026, 3, 1), 0),
        (water, date(2026, 2, 15), 100),
        (main, date(2026, 4, 1), 5372),  # March 2026: 372 kWh
        (canteen, date(2026, 4, 1), 128),  # March 2026: 128 kWh
        (water, date(2026, 3, 17), 160),  # 60 m³ over 30 days: 14 in February, 16 in March
        (main, date(2026, 4, 16), 5522),  # 150 kWh in the first 15 days of April
    ]
    for n, (meter, day, reading) in enumerate(readings):
        clock.set(datetime(day.year, day.month, day.day, 2, tzinfo=UTC))
        submit_record(
            session,
            actor=reader,
            asset=meter,
            template=template_for(session, "meter_reading"),
            answers={"reading": str(reading), "read_on": day.isoformat(), "abnormal": "no"},
            uploads=[Upload("meter_photo", jpeg_bytes((400, 300)))],
            key=f"energy-{n:04d}",
            channel=Channel.WEB,
            clock=clock,
            store=store,
        )
    months = months_up_to(date(2026, 4, 20), 3)

    use = energy_use(session, [school.id], months)

    assert months == [FEBRUARY, MARCH, APRIL]
    by_meter = {meter.code: monthly for meter, monthly in use.meters}
    assert by_meter["DB-01"].used(MARCH) == 372
    assert by_meter["DB-01"].used(date(2025, 3, 1)) == 310
    assert by_meter["DB-01"].change(MARCH) == 20  # (372 − 310) / 310 = +20 %
    assert by_meter["DB-01"].used(APRIL) == 150
    assert by_meter["DB-02"].change(MARCH) is None  # no reading a year before
    assert (by_meter["SB-01"].used(FEBRUARY), by_meter["SB-01"].used(MARCH)) == (28, 32)
    school_power = use.schools[(school.id, "electricity")]
    assert school_power.used(MARCH) == 500  # 372 + 128
    assert school_power.change(MARCH) == 61  # (500 − 310) / 310 = +61.3 %
    assert school_power.unit == {"zh_CN": "度", "en": "kWh"}
    assert use.schools[(school.id, "water")].used(MARCH) == 32
