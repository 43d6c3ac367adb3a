"""The demo shows the daily-life duties: energy beside last year, milk rates rising, the water
test report and the unpaid uniform order announced, the guard's training."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.energy import energy_use, months_up_to
from models.milk import last_months, rate_history
from models.notifications import Notification
from models.org import School
from models.people import Person
from models.training import training_history
from models.water import current_water_test_report


def test_the_demo_school_has_energy_milk_water_orders_and_training_to_show(demo: Session) -> None:
    school = demo.scalars(select(School).where(School.code == "SY01")).one()

    months = months_up_to(date(2026, 11, 1), 6)
    power = energy_use(demo, [school.id], months).schools[(school.id, "electricity")]
    milk = rate_history(demo, [school.id], last_months(date(2026, 12, 2), 6))
    report = current_water_test_report(demo, school.id)
    guard = demo.scalars(select(Person).where(Person.username == "guard1")).one()
    notices = demo.scalars(select(Notification.text)).all()

    assert all(power.change(m) is not None and power.change(m) < 0 for m in months)
    rates = [
        milk.schools[school.id][m].percent for m in milk.months if m in milk.schools[school.id]
    ]
    assert len(rates) >= 5 and rates == sorted(rates)
    assert report is not None and report.expires_on == date(2026, 12, 23)
    assert any("校服：应于 2026-11-27 前与供应商结清货款" in t for t in notices)
    assert [t.topic for t in training_history(demo, guard)] == ["宿舍消防“四个能力”和疏散演练培训"]
