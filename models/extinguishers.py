"""An extinguisher's service and scrap dates, by its agent and production date.

《灭火器维修》（XF 95—2015）: a dry-powder or CO₂ extinguisher is first serviced (维修: taken
apart, tested and refilled by a licensed company) 5 years after it was made and every 2 years
after that, a water-based one after 3 years and then every year; 《建筑灭火器配置验收及检查
规范》（GB 50444—2008）: scrapped (报废) 10 years after it was made (dry powder), 6 (water-based)
or 12 (CO₂), whatever its state. The register, the asset page, the ledger and the sweep's
reminders all read these dates from here.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind
from models.checklists import FormTemplate
from models.db import read_rows
from models.messages import N_, Message
from models.org import School
from models.records import Record

# The record that counts as a service: the annual maintenance, answered "pressure-tested or
# refilled".
SERVICE_TEMPLATE = "extinguisher_annual_maintenance"
SERVICE_ITEM = "serviced"

# Days before a date the responsible person and the school's administrators hear of it: a
# month to book the service company, a term to budget a replacement. 0 is the day itself
# (and once, a sweep later, when it has passed).
SERVICE_NOTICE_DAYS = (30, 7, 0)
SCRAP_NOTICE_DAYS = (90, 30, 0)


class AgentType(enum.StrEnum):
    DRY_POWDER = "dry_powder"
    WATER_BASED = "water_based"
    CO2 = "co2"


AGENT_TYPE_LABELS = {
    AgentType.DRY_POWDER: N_("Dry powder"),
    AgentType.WATER_BASED: N_("Water-based"),
    AgentType.CO2: N_("Carbon dioxide (CO₂)"),
}


@dataclass(frozen=True)
class ServiceYears:
    """Years from production to the first service, between services, and to scrapping."""

    first_service: int
    service_every: int
    scrap: int


SERVICE_YEARS = {
    AgentType.DRY_POWDER: ServiceYears(first_service=5, service_every=2, scrap=10),
    AgentType.WATER_BASED: ServiceYears(first_service=3, service_every=1, scrap=6),
    AgentType.CO2: ServiceYears(first_service=5, service_every=2, scrap=12),
}

# Words on a label or in a spreadsheet that name the agent; CO₂ is looked for first, so that
# "二氧化碳干粉两用" is not read as powder. 泡沫 and 清水 extinguishers are water-based (水基型).
_AGENT_WORDS = (
    (AgentType.CO2, ("二氧化碳", "co2", "co₂", "carbon dioxide", "mt")),
    (AgentType.WATER_BASED, ("水基", "水系", "泡沫", "清水", "water", "foam", "mp", "ms")),
    (AgentType.DRY_POWDER, ("干粉", "abc", "bc", "powder", "mf")),
)


def agent_type(agent: Any) -> AgentType | None:
    """The agent type an extinguisher's agent names ("ABC干粉", "CO2", "水基型"), if any."""
    if not isinstance(agent, str):
        return None
    text = unicodedata.normalize("NFKC", agent).strip().lower()
    if not text:
        return None
    for kind, words in _AGENT_WORDS:
        if any(text.startswith(word) if len(word) <= 2 else word in text for word in words):
            return kind
    return None


def _add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February falls on the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class ExtinguisherLife:
    """Where one extinguisher stands: its type, dates, and the service it last had."""

    agent_type: AgentType
    produced_on: date
    scrap_on: date
    # None when the next service would fall on or after scrapping: it is replaced, not serviced.
    service_due: date | None
    last_serviced: date | None

    def service_days(self, today: date) -> int | None:
        return None if self.service_due is None else (self.service_due - today).days

    def scrap_days(self, today: date) -> int:
        return (self.scrap_on - today).days


def produced_on(attributes: Mapping[str, Any]) -> date | None:
    value = attributes.get("production_date")
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def life_of(
    attributes: Mapping[str, Any], last_serviced: date | None = None
) -> ExtinguisherLife | None:
    """The dates, from the asset's attributes and its last service; None without a known agent
    type or production date."""
    kind = agent_type(attributes.get("agent"))
    made = produced_on(attributes)
    if kind is None or made is None:
        return None
    years = SERVICE_YEARS[kind]
    scrap_on = _add_years(made, years.scrap)
    if last_serviced is not None and last_serviced >= made:
        service_due = _add_years(last_serviced, years.service_every)
    else:
        last_serviced = None
        service_due = _add_years(made, years.first_service)
    return ExtinguisherLife(
        agent_type=kind,
        produced_on=made,
        scrap_on=scrap_on,
        service_due=service_due if service_due < scrap_on else None,
        last_serviced=last_serviced,
    )


def last_services(session: Session, asset_ids: Sequence[int], zone: Any) -> dict[int, date]:
    """Per extinguisher, the local day of its latest maintenance record that serviced it."""
    latest: dict[int, date] = {}
    for asset_id, day in _service_days(session, asset_ids, zone):
        if asset_id not in latest or day > latest[asset_id]:
            latest[asset_id] = day
    return latest


def _service_days(
    session: Session, asset_ids: Iterable[int], zone: Any
) -> Iterable[tuple[int, date]]:
    """(asset id, local day) of every maintenance record that serviced one of these, read in
    chunks so a district's thousands of extinguishers stay within SQLite's parameter limit."""
    ids = sorted(set(asset_ids))
    for start in range(0, len(ids), 900):
        rows = read_rows(session, _service_records(), {"ids": ids[start : start + 900]})
        for asset_id, submitted_at, answers in rows:
            if (answers or {}).get(SERVICE_ITEM) == "yes":
                yield asset_id, submitted_at.astimezone(zone).date()


@cache
def _service_records() -> Any:
    """Built once: every scan of an extinguisher's label asks it."""
    return (
        select(Record.asset_id, Record.submitted_at, Record.answers)
        .join(FormTemplate, FormTemplate.id == Record.template_id)
        .where(
            Record.asset_id.in_(bindparam("ids", expanding=True)),
            Record.asset_kind == AssetKind.EXTINGUISHER,
            FormTemplate.key == SERVICE_TEMPLATE,
        )
    )


def lives(session: Session, assets: Iterable[Asset], zone: Any) -> dict[int, ExtinguisherLife]:
    """Each extinguisher's dates, by asset id; those without agent type or production date are
    left out."""
    extinguishers = [
        a
        for a in assets
        if a.kind == AssetKind.EXTINGUISHER
        and agent_type((a.attributes or {}).get("agent")) is not None
        and produced_on(a.attributes or {}) is not None
    ]
    served = last_services(session, [a.id for a in extinguishers], zone)
    found = {}
    for asset in extinguishers:
        life = life_of(asset.attributes or {}, served.get(asset.id))
        if life is not None:
            found[asset.id] = life
    return found


def notice_step(days: int, steps: tuple[int, ...]) -> int | None:
    """The nearest notice step a date `days` away has reached, if any (as documents' expiry)."""
    return min((step for step in steps if step >= max(days, 0)), default=None)


SERVICE_AND_SCRAP = N_("Next service %(service)s, scrap %(scrap)s")
SERVICE_OVERDUE = N_("Service overdue since %(service)s, scrap %(scrap)s")
SCRAP_ONLY = N_("No more service: scrap %(scrap)s")
SCRAP_PASSED = N_("Past its scrap date %(scrap)s: replace it")


def life_message(life: ExtinguisherLife, today: date) -> Message:
    """The dates as one line, as the day `today` saw them."""
    scrap = life.scrap_on.isoformat()
    if life.scrap_on <= today:
        return Message(SCRAP_PASSED, {"scrap": scrap})
    if life.service_due is None:
        return Message(SCRAP_ONLY, {"scrap": scrap})
    service = life.service_due.isoformat()
    message = SERVICE_OVERDUE if life.service_due <= today else SERVICE_AND_SCRAP
    return Message(message, {"service": service, "scrap": scrap})


def record_lives(session: Session, records: Sequence[Record]) -> dict[int, Message]:
    """Beside each extinguisher's record, its dates as they stood when it was filed (the
    services before it counted), so a ledger of last year reads as it did then."""
    shown = [r for r in records if r.asset_kind == AssetKind.EXTINGUISHER]
    if not shown:
        return {}
    zone = shown[0].asset.school.district.zone
    services: dict[int, list[date]] = {}
    for asset_id, day in _service_days(session, (r.asset_id for r in shown), zone):
        services.setdefault(asset_id, []).append(day)
    figures = {}
    for record in shown:
        day = record.submitted_at.astimezone(zone).date()
        before = [d for d in services.get(record.asset_id, []) if d <= day]
        life = life_of(record.asset.attributes or {}, max(before, default=None))
        if life is not None:
            figures[record.id] = life_message(life, day)
    return figures


# --- where each stands: the register, the asset page, the sweep ----------------------------


class LifeStatus(enum.StrEnum):
    OK = "ok"
    SERVICE_SOON = "service_soon"
    SERVICE_DUE = "service_due"
    SCRAP_SOON = "scrap_soon"
    SCRAP_DUE = "scrap_due"


LIFE_STATUS_LABELS = {
    LifeStatus.OK: N_("In date"),
    LifeStatus.SERVICE_SOON: N_("Service due soon"),
    LifeStatus.SERVICE_DUE: N_("Service overdue"),
    LifeStatus.SCRAP_SOON: N_("Scrap date near"),
    LifeStatus.SCRAP_DUE: N_("Past its scrap date"),
}
# Missing what the dates are computed from: said so, for the administrators to fill in.
NO_DATES = N_("No production date or agent type: service and scrap dates unknown")


def life_status(life: ExtinguisherLife, today: date) -> LifeStatus:
    """The most pressing thing about it on `today`: scrapping before service."""
    scrap_days = life.scrap_days(today)
    if scrap_days <= 0:
        return LifeStatus.SCRAP_DUE
    service_days = life.service_days(today)
    if service_days is not None and service_days <= 0:
        return LifeStatus.SERVICE_DUE
    if scrap_days <= SCRAP_NOTICE_DAYS[0]:
        return LifeStatus.SCRAP_SOON
    if service_days is not None and service_days <= SERVICE_NOTICE_DAYS[0]:
        return LifeStatus.SERVICE_SOON
    return LifeStatus.OK


def asset_life(session: Session, asset: Asset) -> ExtinguisherLife | None:
    """One extinguisher's dates (None for another kind of asset or when unknown)."""
    return lives(session, [asset], asset.school.district.zone).get(asset.id)


@dataclass(frozen=True)
class ExtinguisherLine:
    asset: Asset
    life: ExtinguisherLife | None
    status: LifeStatus | None


def extinguisher_register(session: Session, school: School, today: date) -> list[ExtinguisherLine]:
    """A school's extinguishers with their dates, the most pressing first; those whose dates
    are unknown after them, by code."""
    assets = list(
        session.scalars(
            select(Asset)
            .where(Asset.school_id == school.id, Asset.kind == AssetKind.EXTINGUISHER)
            .order_by(Asset.code)
        )
    )
    found = lives(session, assets, school.district.zone)
    order = [
        LifeStatus.SCRAP_DUE,
        LifeStatus.SERVICE_DUE,
        LifeStatus.SCRAP_SOON,
        LifeStatus.SERVICE_SOON,
        LifeStatus.OK,
    ]
    lines = [
        ExtinguisherLine(
            a, found.get(a.id), life_status(found[a.id], today) if a.id in found else None
        )
        for a in assets
    ]

    def key(line: ExtinguisherLine) -> tuple[int, date, str]:
        if line.life is None or line.status is None:
            return (len(order), date.max, line.asset.code)
        soonest = min(d for d in (line.life.service_due, line.life.scrap_on) if d is not None)
        return (order.index(line.status), soonest, line.asset.code)

    return sorted(lines, key=key)
