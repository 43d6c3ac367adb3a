"""An extinguisher's service and scrap dates by agent type (XF 95-2015, GB 50444-2008), from its
production date and its last service, and the sweep's reminders before each."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.asset_attributes import clean_attributes
from models.assets import Asset
from models.catalogue import translate
from models.clock import SettableClock
from models.duties import ensure_builtin_duties
from models.extinguishers import (
    AgentType,
    LifeStatus,
    agent_type,
    asset_life,
    extinguisher_register,
    life_of,
    life_status,
)
from models.figures import record_figures
from models.messages import Message
from models.notifications import Notification
from models.people import Person, Role
from models.photos import PhotoStore
from models.records import Channel, Record, Upload, submit_record
from models.sweep import sweep
from tests.factories import (
    SERVICED,
    cst,
    distinct_jpeg,
    file_check,
    make_asset,
    make_person,
    make_school,
    template_for,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("agent", "kind", "service", "scrap"),
    [
        ("ABC干粉", AgentType.DRY_POWDER, date(2026, 3, 15), date(2031, 3, 15)),
        ("水基型", AgentType.WATER_BASED, date(2024, 3, 15), date(2027, 3, 15)),
        ("二氧化碳", AgentType.CO2, date(2026, 3, 15), date(2033, 3, 15)),
    ],
)
def test_the_first_service_and_the_scrap_date_follow_the_agent_from_the_production_date(
    agent: str, kind: AgentType, service: date, scrap: date
) -> None:
    life = life_of({"agent": agent, "production_date": "2021-03-15"})

    assert life is not None
    assert (life.agent_type, life.service_due, life.scrap_on) == (kind, service, scrap)


@pytest.mark.parametrize(
    ("agent", "serviced", "next_service"),
    [
        ("ABC干粉", date(2026, 3, 20), date(2028, 3, 20)),  # then every 2 years
        ("CO2", date(2026, 3, 20), date(2028, 3, 20)),
        ("水基型", date(2024, 4, 1), date(2025, 4, 1)),  # then every year
    ],
)
def test_after_a_service_the_next_falls_due_by_the_agents_interval(
    agent: str, serviced: date, next_service: date
) -> None:
    life = life_of({"agent": agent, "production_date": "2021-03-15"}, serviced)

    assert life is not None and life.service_due == next_service


def test_a_service_that_would_fall_after_the_scrap_date_is_not_asked_for() -> None:
    life = life_of({"agent": "水基型", "production_date": "2021-03-15"}, date(2026, 5, 1))

    assert life is not None and life.service_due is None
    assert life_status(life, date(2027, 1, 1)) == LifeStatus.SCRAP_SOON
    assert life_status(life, date(2027, 3, 15)) == LifeStatus.SCRAP_DUE


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ABC干粉", AgentType.DRY_POWDER),
        ("MFZ/ABC4", AgentType.DRY_POWDER),
        ("干粉", AgentType.DRY_POWDER),
        ("CO₂", AgentType.CO2),
        ("MT3", AgentType.CO2),
        ("二氧化碳", AgentType.CO2),
        ("水基型", AgentType.WATER_BASED),
        ("泡沫", AgentType.WATER_BASED),
        ("灭火毯", None),
        ("", None),
    ],
)
def test_the_agent_as_written_on_the_label_names_its_type(
    text: str, kind: AgentType | None
) -> None:
    assert agent_type(text) == kind


def test_without_a_production_date_there_are_no_dates() -> None:
    assert life_of({"agent": "ABC干粉"}) is None
    assert life_of({"production_date": "2021-03-15"}) is None


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("2021年3月", "2021-03-01"), ("2021/3/5", "2021-03-05"), ("2021-03-05", "2021-03-05")],
)
def test_the_production_date_is_kept_as_a_day_a_month_alone_its_first(
    typed: str, kept: str
) -> None:
    errors: dict[str, Message] = {}

    cleaned = clean_attributes("extinguisher", {"production_date": typed}, errors)

    assert errors == {} and cleaned["production_date"] == kept


def test_a_production_date_that_is_not_a_date_is_refused() -> None:
    errors: dict[str, Message] = {}

    clean_attributes("extinguisher", {"production_date": "去年"}, errors)

    assert "2024-03" in translate("en", errors["production_date"].msgid)


# --- the sweep's reminders -------------------------------------------------------------------


class Extinguishers:
    def __init__(self, session: Session, clock: SettableClock, store: PhotoStore) -> None:
        self.session, self.clock, self.store = session, clock, store
        clock.set(cst(1, 9, month=1))
        self.school = make_school(session)
        self.admin = make_person(session, clock, self.school, Role.SCHOOL_ADMIN, "admin")
        self.inspector = make_person(session, clock, self.school, Role.INSPECTOR, "inspector")
        # Only the dates speak here: the monthly check's own reminders are switched off.
        for duty in ensure_builtin_duties(session, self.school.district, now=clock.now()):
            duty.active = False
        session.flush()

    def add(self, code: str, agent: str, made: str) -> Asset:
        return make_asset(
            self.session,
            self.clock,
            self.school,
            code=code,
            name=f"{code} 灭火器",
            responsible=self.inspector,
            agent=agent,
            production_date=made,
        )

    def service(self, extinguisher: Asset, key: str) -> Record:
        """The annual maintenance, serviced, filed now."""
        return submit_record(
            self.session,
            actor=self.inspector,
            asset=extinguisher,
            template=template_for(self.session, "extinguisher_annual_maintenance"),
            answers=SERVICED,
            uploads=[Upload("certificate_photo", distinct_jpeg(key))],
            key=key,
            channel=Channel.WEB,
            clock=self.clock,
            store=self.store,
        ).record

    def sweep_on(self, day: date, hour: int = 8) -> list[str]:
        """The notices the inspector got from a sweep at `hour` on `day` (Shanghai time)."""
        moment = datetime.combine(day, time(hour), SHANGHAI)
        self.clock.set(moment)
        before = self._texts(self.inspector)
        sweep(self.session, now=moment)
        self.session.flush()
        return self._texts(self.inspector)[len(before) :]

    def _texts(self, person: Person) -> list[str]:
        return list(
            self.session.scalars(
                select(Notification.text)
                .where(Notification.recipient_id == person.id)
                .order_by(Notification.id)
            )
        )


@pytest.fixture
def world(session: Session, clock: SettableClock, store: PhotoStore) -> Extinguishers:
    return Extinguishers(session, clock, store)


def test_the_responsible_person_hears_30_and_7_days_before_the_service_and_on_the_day(
    world: Extinguishers,
) -> None:
    world.add("MHQ-1", "水基型", "2023-04-20")  # first service due 2026-04-20

    assert world.sweep_on(date(2026, 3, 20)) == []  # 31 days before
    [month_before] = world.sweep_on(date(2026, 3, 21))
    assert world.sweep_on(date(2026, 3, 21), 15) == []
    assert world.sweep_on(date(2026, 3, 22)) == []
    [week_before] = world.sweep_on(date(2026, 4, 13))
    assert world.sweep_on(date(2026, 4, 20), 6) == []  # before the morning's digest time
    [due] = world.sweep_on(date(2026, 4, 20))
    assert world.sweep_on(date(2026, 4, 21)) == []

    assert month_before == "实验小学的MHQ-1 灭火器（MHQ-1）将于 2026-04-20 到维修期，还有 30 天。"
    assert "还有 7 天" in week_before
    assert (
        due == "实验小学的MHQ-1 灭火器（MHQ-1）已于 2026-04-20 到维修期：请送有资质的维修单位维修。"
    )
    # The school's administrators hear the same, besides their daily summaries.
    assert [t for t in world._texts(world.admin) if "维修期" in t] == [
        month_before,
        week_before,
        due,
    ]


def test_a_service_filed_moves_the_next_service_and_its_reminders(
    world: Extinguishers,
) -> None:
    extinguisher = world.add("MHQ-1", "ABC干粉", "2021-04-20")  # due 2026-04-20
    world.clock.set(cst(10, 10, month=4))
    world.service(extinguisher, "service-0001")

    life = asset_life(world.session, extinguisher)
    assert life is not None
    assert (life.last_serviced, life.service_due) == (date(2026, 4, 10), date(2028, 4, 10))
    assert world.sweep_on(date(2026, 4, 13)) == []
    assert world.sweep_on(date(2026, 4, 20)) == []


def test_the_scrap_date_is_announced_a_term_ahead_and_the_service_no_more(
    world: Extinguishers,
) -> None:
    world.add("MHQ-9", "二氧化碳", "2014-06-01")  # scrapped 2026-06-01, service overdue since 2019

    notices = world.sweep_on(date(2026, 3, 3))  # 90 days before
    assert "将于 2026-06-01 到报废期，还有 90 天" in " ".join(notices)
    world.sweep_on(date(2026, 5, 2))
    [scrapped] = world.sweep_on(date(2026, 6, 1))

    assert "已于 2026-06-01 到报废期" in scrapped
    assert world.sweep_on(date(2026, 6, 2)) == []


def test_the_register_lists_the_most_pressing_first_and_the_unknown_last(
    world: Extinguishers,
) -> None:
    world.add("MHQ-1", "ABC干粉", "2025-01-01")
    world.add("MHQ-2", "水基型", "2020-01-01")  # scrapped 2026-01-01
    world.add("MHQ-3", "ABC干粉", "2021-04-01")  # service due 2026-04-01
    make_asset(world.session, world.clock, world.school, code="MHQ-4", agent="ABC干粉")

    lines = extinguisher_register(world.session, world.school, date(2026, 3, 20))

    assert [(line.asset.code, line.status) for line in lines] == [
        ("MHQ-2", LifeStatus.SCRAP_DUE),
        ("MHQ-3", LifeStatus.SERVICE_SOON),
        ("MHQ-1", LifeStatus.OK),
        ("MHQ-4", None),
    ]


def test_the_ledger_shows_each_record_with_the_dates_as_they_stood_then(
    world: Extinguishers,
) -> None:
    extinguisher = world.add("MHQ-1", "ABC干粉", "2021-04-20")
    world.clock.set(cst(25, 10, month=3))
    monthly = file_check(
        world.session, world.clock, world.store, world.inspector, extinguisher, "monthly-0001"
    )
    world.clock.set(cst(10, 10, month=4))
    service = world.service(extinguisher, "service-0001")

    figures = record_figures(world.session, [monthly, service])

    assert translate("zh_CN", figures[monthly.id].msgid, **figures[monthly.id].params) == (
        "下次维修 2026-04-20，报废 2031-04-20"
    )
    assert translate("en", figures[service.id].msgid, **figures[service.id].params) == (
        "Next service 2028-04-10, scrap 2031-04-20"
    )
