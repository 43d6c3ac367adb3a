"""Small factories for rows: each test builds what it needs."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.telegram import CHANNEL as TELEGRAM
from models.actions import CorrectiveAction, close_action
from models.addresses import ChannelAccount
from models.assets import Asset, AssetKind, create_asset
from models.checklists import FormTemplate, latest_template
from models.clock import SettableClock
from models.documents import Document, DocumentKind, add_document
from models.duties import ensure_builtin_duties
from models.messages import SubmissionInvalid
from models.org import District, Location, School
from models.people import Person, Role, create_person, grant_role, hash_password
from models.photos import PhotoStore, process_photo
from models.records import Channel, Upload, submit_record
from models.suppliers import SUPPLY_CATEGORIES, Supplier
from models.sweep import sweep

PASSWORD = "secret-pass"


@cache
def password_hash() -> str:
    """PASSWORD's hash, computed once for every person a test makes (at the tests' cost)."""
    return hash_password(PASSWORD)


def make_school(
    session: Session, code: str = "S1", name: str = "实验小学", district: District | None = None
) -> School:
    if district is None:
        district = District(code=f"D-{code}", name="示范区")
        session.add(district)
    school = School(district=district, code=code, name=name)
    session.add(school)
    session.flush()
    return school


def make_person(
    session: Session,
    clock: SettableClock,
    school: School,
    role: Role = Role.INSPECTOR,
    username: str = "inspector",
    phone: str | None = None,
) -> Person:
    person = create_person(
        session,
        username=username,
        display_name=username.title(),
        password=PASSWORD,
        phone=phone,
        now=clock.now(),
        hashed=password_hash(),
    )
    grant_role(session, person, role, school)
    return person


def make_asset(
    session: Session,
    clock: SettableClock,
    school: School,
    kind: AssetKind = AssetKind.EXTINGUISHER,
    code: str = "MHQ-001",
    name: str = "一楼东侧灭火器",
    responsible: Person | None = None,
    **attributes: Any,
) -> Asset:
    location = Location(school=school, building="教学楼", floor="1层", room=code)
    session.add(location)
    if kind == AssetKind.BUS:
        attributes.setdefault("seats", 19)
        attributes.setdefault("plate", "辽A·12345")
    return create_asset(
        session,
        school=school,
        kind=kind,
        code=code,
        name=name,
        location=location,
        responsible=responsible,
        attributes=attributes,
        now=clock.now(),
    )


def make_supplier(
    session: Session,
    clock: SettableClock,
    school: School,
    name: str = "绿源蔬菜配送",
    categories: tuple[str, ...] = tuple(SUPPLY_CATEGORIES),
    active: bool = True,
    *,
    licensed: bool = True,
) -> Supplier:
    """A supplier of the school's district, approved for `categories` (all of them unless told);
    `licensed`, it holds a valid food business licence and business licence for ten years."""
    supplier = Supplier(
        district_id=school.district_id,
        name=name,
        categories=list(categories),
        active=active,
        created_at=clock.now(),
    )
    session.add(supplier)
    session.flush()
    if licensed:
        for kind, title in (
            (DocumentKind.FOOD_BUSINESS_LICENCE, "食品经营许可证"),
            (DocumentKind.BUSINESS_LICENCE, "营业执照"),
        ):
            session.add(
                Document(
                    district_id=school.district_id,
                    kind=kind,
                    title=title,
                    supplier_id=supplier.id,
                    issued_on=clock.now().date() - timedelta(days=365),
                    expires_on=clock.now().date() + timedelta(days=3650),
                    created_at=clock.now() - timedelta(days=365),
                )
            )
        session.flush()
        session.expire(supplier, ["documents"])
    return supplier


def grant_filing_role(
    session: Session, person: Person, template_key: str, school: School
) -> Person:
    """Give the person the first role that files this checklist, unless they hold one."""
    roles = template_for(session, template_key).spec.roles
    held = {g.role for g in person.grants if g.school_id == school.id}
    if roles and not held & set(roles):
        grant_role(session, person, Role(roles[0]), school)
        session.refresh(person, ["grants"])
    return person


def stored_versions(session: Session, key: str) -> list[int]:
    """Every version of a checklist stored, in any district or the base: what a refused save
    must leave as it was."""
    return sorted(session.scalars(select(FormTemplate.version).where(FormTemplate.key == key)))


def template_for(session: Session, key: str, district_id: int | None = None) -> FormTemplate:
    """The version the district's schools file (None: the built-in one)."""
    template = latest_template(session, key, district_id=district_id)
    assert template is not None
    return template


def jpeg_bytes(
    size: tuple[int, int] = (2400, 1800), color: str = "orange", exif: Image.Exif | None = None
) -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif or Image.Exif())
    return out.getvalue()


def distinct_jpeg(seed: str, size: tuple[int, int] = (400, 300)) -> bytes:
    """A photo of its own for each seed: one photo proves one check (models/records.py)."""
    import hashlib

    return jpeg_bytes(size, color="#" + hashlib.sha256(seed.encode()).hexdigest()[:6])


def gps_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: orientation, camera model and a GPS position."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x0110] = "Houqin Test Phone"
    gps = {1: "N", 2: (41.0, 48.0, 0.0), 3: "E", 4: (123.0, 25.0, 0.0)}
    exif[0x8825] = gps
    return exif


EXTINGUISHER_OK = {
    "gauge_green": "pass",
    "pin_seal": "pass",
    "body_intact": "pass",
    "hose_clear": "pass",
    "accessible_signed": "pass",
}


def detailed_jpeg(seed: int = 0) -> bytes:
    """A photo with as much detail as a real one at thumbnail size: the worst case for weight."""
    import random

    random.seed(seed)
    noise = [Image.effect_noise((128, 96), 80 + random.randint(0, 20)) for _ in range(3)]
    image = Image.merge("RGB", noise).resize((2000, 1500), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


PRE_TRIP_OK = {
    "driver_fit": "yes",
    "documents": "pass",
    "brakes": "pass",
    "steering": "pass",
    "tyres_lights": "pass",
    "doors_exits": "pass",
    "seats": "pass",
    "seatbelts": "pass",
    "extinguisher": "pass",
    "first_aid_kit": "pass",
}


def file_pre_trip_check(
    session: Session,
    clock: SettableClock,
    store: Any,
    bus: Asset,
    person: Person,
    key: str = "pre-trip-0001",
    papers: bool = True,
    **answers: str,
) -> Any:
    """The driver's check of the bus before it leaves (§41), all passed unless told otherwise;
    with `papers`, the bus and the day's driver get each paper they have none of, in date
    (give_bus_papers), so the bus may leave; a bus checked by someone who is not its driver and
    naming nobody registered is given one (bus staff, under the name the bus gives)."""
    from models.records import Channel, submit_record

    record = submit_record(
        session,
        actor=person,
        asset=bus,
        template=template_for(session, "bus_pre_trip_check"),
        answers={**PRE_TRIP_OK, **answers},
        uploads=[],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record
    if papers:
        from models.bus_papers import driver_of_the_day

        driver = driver_of_the_day(session, bus, record)
        if driver is None:
            driver = make_person(session, clock, bus.school, Role.BUS_STAFF, f"driver{bus.id}")
            named = str(bus.attributes.get("driver") or "").strip()
            if named:
                driver.display_name = named
            else:
                bus.attributes = {**bus.attributes, "driver": driver.display_name}
            session.flush()
        give_bus_papers(session, clock, bus, driver)
    return record


def give_bus_papers(
    session: Session,
    clock: SettableClock,
    bus: Asset,
    driver: Person | None,
    expires_on: date = date(2027, 3, 1),
) -> list[Document]:
    """Each paper the bus (inspection, carrier liability) and its driver (qualification,
    annual review) have none of on file, valid until `expires_on`."""
    from models.bus_papers import missing_papers
    from models.documents import InsuranceType

    added = []
    for paper, holder in missing_papers(session, bus, driver):
        insurance = paper == InsuranceType.BUS_CARRIER_LIABILITY
        document = Document(
            district_id=bus.school.district_id,
            school_id=bus.school_id,
            kind=DocumentKind.INSURANCE_POLICY if insurance else paper,
            insurance_type=paper if insurance else None,
            title=str(paper),
            person_id=holder.id if isinstance(holder, Person) else None,
            asset_id=holder.id if isinstance(holder, Asset) else None,
            expires_on=expires_on,
            created_at=clock.now(),
        )
        session.add(document)
        added.append(document)
    session.flush()
    return added


def make_address(
    session: Session, person: Person, channel: str, address: str, now: datetime
) -> ChannelAccount:
    """The person's address on a channel, linked without sending a code."""
    account = ChannelAccount(person_id=person.id, channel=channel, address=address, linked_at=now)
    session.add(account)
    session.flush()
    return account


def make_chat(session: Session, person: Person, chat_id: int, now: datetime) -> ChannelAccount:
    """The person's Telegram chat, linked without sending a code."""
    return make_address(session, person, TELEGRAM, str(chat_id), now)


def make_district_admin(
    session: Session, clock: SettableClock, school: School, username: str = "district"
) -> Person:
    return make_person(session, clock, school, Role.DISTRICT_ADMIN, username)


def make_certificate(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    actor: Person,
    school: School,
    holder: Any,
    **fields: Any,
) -> Document:
    """A health certificate (valid to 2027-01-31 unless told otherwise) added by `actor`."""
    values: dict[str, Any] = {
        "kind": DocumentKind.HEALTH_CERTIFICATE,
        "title": "健康证",
        "expires_on": date(2027, 1, 31),
    }
    values.update(fields)
    return add_document(
        session, actor, school=school, holder=holder, store=store, now=clock.now(), **values
    )


def field_errors(refused: pytest.ExceptionInfo[SubmissionInvalid]) -> dict[str, str]:
    """A refusal's messages by field, as their catalogue ids."""
    return {field: message.msgid for field, message in refused.value.errors.items()}


def make_task(
    session: Session,
    asset: Asset,
    due_at: datetime,
    state: str = "open",
    *,
    done_at: datetime | None = None,
    template_key: str = "extinguisher_monthly",
    current: bool = False,
) -> Any:
    """A task of the asset's duty for this template (made on first use), due at `due_at`,
    its window a day either side: a hand-built history without running the sweep."""
    from datetime import timedelta

    from sqlalchemy import select

    from models.duties import Duty, Task

    duty = session.scalar(
        select(Duty).where(
            Duty.district_id == asset.school.district_id, Duty.template_key == template_key
        )
    )
    if duty is None:
        duty = Duty(
            district_id=asset.school.district_id,
            asset_kind=asset.kind,
            template_key=template_key,
            rule={"frequency": "daily", "at": "17:00"},
            created_at=due_at,
        )
        session.add(duty)
        session.flush()
    task = Task(
        duty_id=duty.id,
        asset_id=asset.id,
        school_id=asset.school_id,
        template_key=template_key,
        opens_at=due_at - timedelta(days=1),
        due_at=due_at,
        closes_at=due_at + timedelta(days=1),
        state=state,
        current=current,
        done_at=done_at,
    )
    session.add(task)
    session.flush()
    return task


def make_record_row(
    session: Session,
    asset: Asset,
    person: Person,
    at: datetime,
    *,
    template_key: str = "extinguisher_monthly",
    same_photo_as: Any = None,
    answers: dict[str, Any] | None = None,
) -> Any:
    """A passed record filed at `at`, written straight to its table (no photo, no rules: a
    meter reading below the last one, as an import or a late phone would bring it)."""
    from uuid import uuid4

    from models.records import Record

    record = Record(
        asset_id=asset.id,
        school_id=asset.school_id,
        asset_kind=asset.kind,
        template_id=template_for(session, template_key).id,
        answers=answers or {},
        failed_items=[],
        result="pass",
        submitted_by_id=person.id,
        submitted_at=at,
        channel="web",
        idempotency_key=uuid4().hex,
        same_photo_as_id=same_photo_as.id if same_photo_as is not None else None,
    )
    session.add(record)
    session.flush()
    return record


# --- a canteen through March 2026, for the food-safety reports ---------------------------

MORNING = "canteen_morning_health_check"
TABLEWARE = "canteen_tableware_disinfection"
HEALTHY: dict[str, str] = {}
HEALTHY_CLOTHES: dict[str, str] = {}


def worker_answers(
    person: Person, duty: str = "on", healthy: str = "yes", clothes: str = "yes", **more: str
) -> dict[str, str]:
    """One canteen worker's answers on the morning health check's roster."""
    answers = {f"staff.{person.id}.duty": duty}
    if duty == "on":
        answers |= {f"staff.{person.id}.healthy": healthy, f"staff.{person.id}.clothes": clothes}
    return answers | {f"staff.{person.id}.{key}": value for key, value in more.items()}


CLEAN = {
    "done_by": "in_house",
    "method": "蒸汽",
    "items": "餐盘、碗、筷子",
    "disinfected_at": "13:20",
    "minutes": "15",
    "stored_clean": "yes",
}
DIRTY = {**CLEAN, "stored_clean": "no"}
NOTE = "晨检漏检已提醒，专人负责"


def cst(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment in 2026, given in Shanghai time."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


class CanteenMonth:
    """One school's canteen through March 2026, with only the morning check and tableware
    disinfection scheduled (the district switched the others off, to keep the world small)."""

    def __init__(self, session: Session, clock: SettableClock, store: PhotoStore) -> None:
        self.session, self.clock, self.store = session, clock, store
        self.school = make_school(session)
        self.admin = make_person(session, clock, self.school, Role.SCHOOL_ADMIN, "admin")
        self.cook = make_person(session, clock, self.school, Role.CANTEEN_STAFF, "cook")
        make_certificate(session, clock, store, self.admin, self.school, self.cook)
        self.canteen = make_asset(
            session, clock, self.school, AssetKind.CANTEEN, "ST-01", "食堂", responsible=self.cook
        )
        for duty in ensure_builtin_duties(session, self.school.district, now=clock.now()):
            duty.active = duty.template_key in (MORNING, TABLEWARE)
        session.flush()
        self.keys = 0

    def file(self, key: str, answers: dict[str, str], at: datetime) -> int:
        self.clock.set(at)
        self.keys += 1
        if key == MORNING:
            answers = {**worker_answers(self.cook), **answers}
        photos = [Upload("photo", distinct_jpeg(f"p{self.keys}"))] if key == TABLEWARE else []
        return submit_record(
            self.session,
            actor=self.cook,
            asset=self.canteen,
            template=template_for(self.session, key),
            answers=answers,
            uploads=photos,
            key=f"record-{self.keys:04d}",
            channel=Channel.WEB,
            clock=self.clock,
            store=self.store,
        ).record.id

    def live_through(self, last_day: int, first_day: int = 2) -> None:
        """Each school day to `last_day`: the sweep opens the day, the cook files both checks,
        except the 4th's morning check (missed) and the 10th's failed tableware."""
        for day in range(first_day, last_day + 1):
            moment = cst(day, 0, 5)
            self.clock.set(moment)
            sweep(self.session, now=moment)
            if date(2026, 3, day).weekday() >= 5:
                continue
            if day != 4:
                self.file(MORNING, HEALTHY_CLOTHES, cst(day, 7, 10))
            self.file(TABLEWARE, DIRTY if day == 10 else CLEAN, cst(day, 13, 40))
            if day == 16:
                self.fix(cst(16, 9))
        self.clock.set(cst(last_day, 0, 5) + timedelta(days=1))
        sweep(self.session, now=self.clock.now())
        self.session.flush()

    def fix(self, at: datetime) -> None:
        action = self.session.scalars(select(CorrectiveAction)).one()
        self.clock.set(at)
        close_action(
            self.session,
            action,
            actor=self.admin,
            note="重新清洗消毒后入柜",
            photo=process_photo(distinct_jpeg("fix")),
            store=self.store,
            now=at,
        )


def file_check(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    person: Person,
    asset: Asset,
    key: str,
    answers: dict[str, str] | None = None,
    template_key: str = "extinguisher_monthly",
    photo: bytes | None = None,
    located: Any = None,
) -> Any:
    """One record of a check, as a person files it from the form, with its own photo unless
    given one (a history of checks: each is meant, so a repeat in its window is not asked),
    and where the phone was when `located` (a models.positions.PhonePosition) is given."""
    from models.records import Channel, Upload, submit_record

    return submit_record(
        session,
        actor=person,
        asset=asset,
        template=template_for(session, template_key),
        answers=EXTINGUISHER_OK if answers is None else answers,
        # Taken as it is filed, as a phone's camera photo is.
        uploads=[
            Upload(
                "photo",
                photo or distinct_jpeg(key, (200, 150)),
                taken_at=clock.now().isoformat(),
            )
        ],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
        repeat_confirmed=True,
        located=located,
    ).record


PATROL = "fire_patrol"
PATROL_OK = {
    "fire_and_power_use": "pass",
    "exits_and_lighting": "pass",
    "equipment_in_place": "pass",
    "fire_doors_shutters": "pass",
    "key_areas_staffed": "pass",
}
DRILL_ANSWERS = {
    "held_at": "2026-03-18T10:00",
    "drill_kind": "evacuation",
    "participants": "420",
    "evacuation_minutes": "4",
    "problems_found": "no",
}


class FireMonth:
    """One school's fire duties through March 2026: the inspector patrols every school day
    but Wednesday 4th; Tuesday 10th's patrol finds an escape route blocked (critical, fix by
    the 11th 16:00), cleared on the 12th; the extinguisher's monthly check passes on the 20th,
    a drill is held on the 18th; a fire door found open on 27 February is still open."""

    def __init__(self, session: Session, clock: SettableClock, store: PhotoStore) -> None:
        self.session, self.clock, self.store = session, clock, store
        clock.set(cst(20, 9, month=2))
        self.school = make_school(session)
        self.admin = make_person(session, clock, self.school, Role.SCHOOL_ADMIN, "admin")
        self.inspector = make_person(session, clock, self.school, Role.INSPECTOR, "inspector")
        self.office = make_asset(
            session, clock, self.school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室"
        )
        self.extinguisher = make_asset(session, clock, self.school)
        self.keys = 0
        self.file(
            self.office, PATROL, {**PATROL_OK, "fire_doors_shutters": "fail"}, cst(27, 16, month=2)
        )
        clock.set(cst(2, 0, 1))
        for duty in ensure_builtin_duties(session, self.school.district, now=clock.now()):
            duty.active = duty.template_key in (PATROL, "extinguisher_monthly")
        session.flush()

    def file(self, asset: Asset, key: str, answers: dict[str, str], at: datetime) -> int:
        self.clock.set(at)
        self.keys += 1
        uploads = (
            []
            if key == PATROL
            else [
                Upload("photo" if key != "fire_drill" else "photos", distinct_jpeg(f"f{self.keys}"))
            ]
        )
        return submit_record(
            self.session,
            actor=self.inspector,
            asset=asset,
            template=template_for(self.session, key),
            answers=answers,
            uploads=uploads,
            key=f"fire-{self.keys:04d}",
            channel=Channel.WEB,
            clock=self.clock,
            store=self.store,
        ).record.id

    def live_through(self, last_day: int) -> None:
        for day in range(2, last_day + 1):
            moment = cst(day, 0, 5)
            self.clock.set(moment)
            sweep(self.session, now=moment)
            if day == 12:
                self.fix(cst(12, 9))
            if date(2026, 3, day).weekday() >= 5:
                continue
            if day == 18:
                self.file(self.office, "fire_drill", DRILL_ANSWERS, cst(18, 10, 30))
            if day == 20:
                self.file(self.extinguisher, "extinguisher_monthly", EXTINGUISHER_OK, cst(20, 15))
            if day != 4:
                answers = {**PATROL_OK, "exits_and_lighting": "fail"} if day == 10 else PATROL_OK
                self.file(self.office, PATROL, answers, cst(day, 16, 30))
        self.clock.set(cst(last_day, 0, 5) + timedelta(days=1))
        sweep(self.session, now=self.clock.now())
        self.session.flush()

    def fix(self, at: datetime) -> None:
        action = self.session.scalars(
            select(CorrectiveAction).where(CorrectiveAction.item_key == "exits_and_lighting")
        ).one()
        self.clock.set(at)
        close_action(
            self.session,
            action,
            actor=self.admin,
            note="清走楼梯间堆放的桌椅",
            photo=process_photo(distinct_jpeg("fire-fix")),
            store=self.store,
            now=at,
        )


DISINFECTION = "water_dispenser_disinfection"
DISINFECTED = {"inner_cleaned": "yes", "outlet_cleaned": "yes", "bottle_in_date": "yes"}
WATER_TESTED = {
    "supplier": "清泉桶装水厂",
    "qs_certified": "yes",
    "report_date": "2026-03-03",
    "test_result": "pass",
    "valid_until": "2026-06-30",
}


class WaterQuarter:
    """One school's drinking water from 2 March 2026, when its two dispensers came: the quarter
    of January to March, and the one after. `disinfect` files a dispenser's disinfection."""

    def __init__(self, session: Session, clock: SettableClock, store: PhotoStore) -> None:
        self.session, self.clock, self.store = session, clock, store
        self.school = make_school(session)
        self.admin = make_person(session, clock, self.school, Role.SCHOOL_ADMIN, "admin")
        self.inspector = make_person(session, clock, self.school, Role.INSPECTOR, "inspector")
        self.office = make_asset(
            session, clock, self.school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室"
        )
        self.first = make_asset(
            session, clock, self.school, AssetKind.WATER_DISPENSER, "YS-01", "一楼饮水机"
        )
        self.second = make_asset(
            session, clock, self.school, AssetKind.WATER_DISPENSER, "YS-02", "二楼饮水机"
        )
        for duty in ensure_builtin_duties(session, self.school.district, now=clock.now()):
            duty.active = duty.template_key in (DISINFECTION, "water_quarterly_report")
        session.flush()
        self.keys = 0

    def file(self, asset: Asset, key: str, answers: dict[str, str], at: datetime) -> int:
        self.clock.set(at)
        self.keys += 1
        photo = "photo" if key == DISINFECTION else "report_photo"
        return submit_record(
            self.session,
            actor=self.inspector,
            asset=asset,
            template=template_for(self.session, key),
            answers=answers,
            uploads=[Upload(photo, distinct_jpeg(f"w{self.keys}"))],
            key=f"water-{self.keys:04d}",
            channel=Channel.WEB,
            clock=self.clock,
            store=self.store,
        ).record.id

    def live_through_march(self) -> None:
        """The test report filed on the 5th; the first dispenser disinfected every Monday;
        the second on the 9th with out-of-date bottles (fixed on the 11th), then not on the
        16th (missed), then again on the 30th."""
        self.sweep_to(cst(5, 9))
        self.file(self.office, "water_quarterly_report", WATER_TESTED, cst(5, 9))
        self.sweep_to(cst(9, 10))
        self.file(self.first, DISINFECTION, DISINFECTED, cst(9, 10))
        self.file(
            self.second, DISINFECTION, {**DISINFECTED, "bottle_in_date": "no"}, cst(9, 10, 30)
        )
        self.sweep_to(cst(11, 15))
        close_action(
            self.session,
            self.session.scalars(select(CorrectiveAction)).one(),
            actor=self.admin,
            note="换用合格供应商的桶装水",
            photo=process_photo(distinct_jpeg("water-fix")),
            store=self.store,
            now=cst(11, 15),
        )
        for day in (16, 23, 30):
            self.sweep_to(cst(day, 10))
            self.file(self.first, DISINFECTION, DISINFECTED, cst(day, 10))
        self.file(self.second, DISINFECTION, DISINFECTED, cst(30, 11))
        self.sweep_to(cst(1, 10, month=4))

    def sweep_to(self, at: datetime) -> None:
        """The sweep of every day up to `at`, as the scheduler runs it."""
        moment = self.clock.now()
        while moment < at:
            moment = min(moment + timedelta(days=1), at)
            self.clock.set(moment)
            sweep(self.session, now=moment)
        self.session.flush()


NIGHT_PATROL = "fire_night_patrol"
NIGHT_PATROL_OK = {
    "dorm_power_use": "pass",
    "exits_unlocked": "pass",
    "equipment_in_place": "pass",
    "staff_on_duty": "pass",
    "other_buildings": "pass",
}
SERVICED = {
    "company": "安消消防维保",
    "serviced": "yes",
    "ready_for_use": "pass",
    "next_due": "2027-03-20",
    "tag_updated": "yes",
}


def make_boarding_school(session: Session, code: str = "B1", **kwargs: Any) -> School:
    """A school whose pupils sleep there (寄宿制)."""
    school = make_school(session, code, **kwargs)
    school.boarding = True
    session.flush()
    return school
