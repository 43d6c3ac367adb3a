"""The demo district: two schools, assets of every kind, a login for every role, some history."""

from __future__ import annotations

import io
import secrets
import uuid
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind, create_asset
from models.checklists import TemplateSpec, base_template
from models.clock import SettableClock, SystemClock
from models.documents import Document, DocumentKind
from models.duties import DutyFields, add_calendar_entry, add_duty, ensure_builtin_duties
from models.food_samples import disposable_from, dispose_sample
from models.health import roster_for, roster_passing_answers
from models.labels import write_labels
from models.messages import SubmissionInvalid
from models.orders import add_order, settle_order
from models.org import District, Location, School
from models.people import Person, Role, create_person, grant_role
from models.photos import PhotoStore
from models.records import Channel, Upload
from models.records import submit_record as _file_record
from models.recurrence import Frequency, Rule
from models.retirement import retire_asset
from models.suppliers import Supplier, add_supplier
from models.sweep import sweep
from models.training import add_training
from models.trips import check_rear
from scheduler import sweep_policy
from settings import Settings, open_photo_store

VAR = Path("var")
DEMO_PASSWORD = "houqin123"
DISTRICT_CODE = "DEMO"

SCHOOLS = [("SY01", "示范区实验小学"), ("ZX02", "示范区第二中学")]

PEOPLE = [
    # username, phone, name, role, school index
    ("district", "13800000001", "区教育局 王主任", Role.DISTRICT_ADMIN, 0),
    ("admin1", "13800000002", "实验小学 李校长", Role.SCHOOL_ADMIN, 0),
    ("admin2", "13800000003", "第二中学 赵校长", Role.SCHOOL_ADMIN, 1),
    ("canteen1", "13800000004", "食堂 张师傅", Role.CANTEEN_STAFF, 0),
    ("dorm1", "13800000005", "宿管 刘阿姨", Role.DORM_STAFF, 0),
    ("teacher1", "13800000006", "跟车教师 陈老师", Role.TEACHER, 0),
    ("inspector1", "13800000007", "安全员 孙老师", Role.INSPECTOR, 0),
    ("teacher2", "13800000008", "跟车教师 周老师", Role.TEACHER, 1),
    ("driver1", "13800000009", "校车司机 吴师傅", Role.BUS_STAFF, 0),
    ("driver2", "13800000016", "校车司机 冯师傅", Role.BUS_STAFF, 0),
    ("canteen2", "13800000010", "食堂 郑师傅", Role.CANTEEN_STAFF, 0),
    ("foodsafety1", "13800000012", "食品安全员 钱老师", Role.FOOD_SAFETY_OFFICER, 0),
    # 第二中学 is a boarding school: its dorm manager walks the night fire patrol.
    ("dorm2", "13800000031", "宿管 何老师", Role.DORM_STAFF, 1),
]

# Someone new, not yet logged in: a one-time sign-in code (as an import prints them), and
# on first login they choose their own password.
NEWCOMER = ("newcomer", "13800000011", "新来的 吴师傅", Role.CANTEEN_STAFF, 0)
NEWCOMER_CODE = "HQ7K3M9P"

# A plausible school year for the demo: terms, holidays and one make-up school day (调休).
CALENDAR = [
    ("term", "2026-02-24", "2026-07-10", "2026 春季学期"),
    ("term", "2026-09-01", "2027-01-22", "2026 秋季学期"),
    ("holiday", "2026-04-04", "2026-04-06", "清明节"),
    ("holiday", "2026-05-01", "2026-05-05", "劳动节"),
    ("holiday", "2026-06-19", "2026-06-21", "端午节"),
    ("holiday", "2026-10-01", "2026-10-08", "国庆节、中秋节"),
    ("workday", "2026-10-10", "2026-10-10", "国庆调休上课"),
]

SUPPLIERS = [
    # name, approved categories, designated brands
    ("绿源粮油有限公司", ["rice", "flour", "oil", "soy_sauce", "vinegar"], ["绿源"]),
    ("放心肉联厂", ["meat"], ["放心牌"]),
    ("鲜达蔬菜配送中心", ["vegetables"], []),
    ("清泉桶装水公司", ["water"], []),
]


def submit_record(session: Session, **fields: Any) -> Any:
    """File a demo record as a phone would: each photo with its capture time, the moment it
    was taken on the demo's clock (the phone's script reads it from the photo's EXIF)."""
    taken = fields["clock"].now().isoformat()
    fields["uploads"] = [replace(u, taken_at=u.taken_at or taken) for u in fields["uploads"]]
    return _file_record(session, **fields)


def demo_settings(
    base: Settings, keep_base_url: bool, host: str, port: int | None, base_url: str | None = None
) -> Settings:
    """Always SQLite and photos under ./var/; labels carry --base-url, the configured one,
    or the address the demo serves on."""
    settings = replace(base)
    port = port or settings.server.port
    settings.server = replace(settings.server, port=port)
    settings.database = replace(settings.database, url=f"sqlite:///{VAR / 'houqin.db'}")
    settings.storage = replace(settings.storage, data_dir=str(VAR / "data"))
    if base_url:
        settings.server.base_url = base_url.rstrip("/")
    elif not keep_base_url:
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        settings.server.base_url = f"http://{shown_host}:{port}"
    if not settings.server.secret_key:
        VAR.mkdir(exist_ok=True)
        secret_file = VAR / "secret_key"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(32))
            secret_file.chmod(0o600)
        settings.server.secret_key = secret_file.read_text().strip()
    return settings


def seed_demo(session: Session, settings: Settings, *, now: datetime | None = None) -> str:
    """Create the demo once, its history all before `now` (the clock's time unless given);
    every run writes the label sheet and prints how to log in."""
    if session.scalar(select(District).where(District.code == DISTRICT_CODE)) is None:
        _create(session, settings, now or SystemClock().now())
    sheet = VAR / "labels-SY01.pdf"
    written = write_labels(
        session,
        "SY01",
        base_url=settings.server.base_url,
        layout=settings.labels.layout,
        font=settings.labels.font,
        pdf=sheet,
    )
    lines = [
        "",
        "Houqin demo / 后勤演示",
        f"  open {settings.server.base_url}/  (phone-sized browser works best)",
        f"  labels: {written}",
        f"  every demo login uses the password: {DEMO_PASSWORD}",
    ]
    for username, phone, name, role, school_index in PEOPLE:
        school = SCHOOLS[school_index][0] if role != Role.DISTRICT_ADMIN else "all schools"
        lines.append(f"  {username:<11} {phone}  {role.value:<19} {school:<11} {name}")
    username, phone, name, role, school_index = NEWCOMER
    lines.append(
        f"  {username:<11} {phone}  {role.value:<19} {SCHOOLS[school_index][0]:<11} {name}"
        f"  (one-time sign-in code {NEWCOMER_CODE}: choose a password on first login)"
    )
    lines.append("")
    return "\n".join(lines)


def _create(session: Session, settings: Settings, now: datetime) -> None:
    district = District(
        code=DISTRICT_CODE,
        name="示范区教育局",
        timezone=settings.i18n.timezone,
        locale=settings.i18n.default_locale,
    )
    schools = [School(district=district, code=code, name=name) for code, name in SCHOOLS]
    session.add_all([district, *schools])
    session.flush()
    people: dict[str, Person] = {}
    for username, phone, name, role, school_index in PEOPLE:
        person = create_person(
            session,
            username=username,
            display_name=name,
            password=DEMO_PASSWORD,
            phone=phone,
            now=now,
        )
        grant_role(session, person, role, schools[school_index])
        people[username] = person
    username, phone, name, role, school_index = NEWCOMER
    newcomer = create_person(
        session,
        username=username,
        display_name=name,
        password=NEWCOMER_CODE,
        phone=phone,
        now=now,
        one_time=True,
    )
    grant_role(session, newcomer, role, schools[school_index])
    for name, categories, brands in SUPPLIERS:
        supplier = add_supplier(
            session,
            people["district"],
            district.id,
            name=name,
            categories=categories,
            designated_brands=brands,
            now=now,
        )
        _food_licence(session, supplier, now)
    for index, school in enumerate(schools):
        # On the books for a month: their checks are due as usual, not from their next window.
        _assets(session, school, people, index, now - timedelta(days=30))
    _bus_papers(session, schools[0], people, now)
    _daily_life(session, settings, schools, people, now)
    _history(session, settings, schools, people, now)
    _boarding_school(session, settings, schools[1], people, now)
    _extinguisher_dates(session, settings, schools[0], people["inspector1"], now)
    for kind, starts_on, ends_on, name in CALENDAR:
        add_calendar_entry(
            session,
            people["district"],
            district.id,
            kind=kind,
            starts_on=date.fromisoformat(starts_on),
            ends_on=date.fromisoformat(ends_on),
            name=name,
            now=now,
        )
    _drills_and_retired(session, schools, people, now)
    # Today's tasks, reminders and digests, as the scheduler would have them.
    sweep(session, now=now, policy=sweep_policy(settings))


def _drills_and_retired(
    session: Session, schools: list[School], people: dict[str, Person], now: datetime
) -> None:
    """Drills had no schedule: the district gives every school one each quarter, and 第二中学
    keeps its own once a year, confirmed below the rule's minimum wherever the drill checklist
    names one (it then shows on the dashboards). One extinguisher of 实验小学 is retired
    (报废): its records stay in the ledger, its label says so, it has no more tasks."""
    fields = DutyFields(
        rule=Rule(Frequency.QUARTERLY, time(17, 0), month=3, day=20),
        remind_before=24 * 60,
        escalate_school_after=24 * 60,
        escalate_district_after=3 * 24 * 60,
    )
    add_duty(
        session,
        people["district"],
        template_key="fire_drill",
        fields=fields,
        district=schools[0].district,
        now=now,
    )
    yearly = replace(fields, rule=Rule(Frequency.YEARLY, time(17, 0), month=10, day=30))
    add_duty(
        session,
        people["admin2"],
        template_key="fire_drill",
        fields=yearly,
        school=schools[1],
        now=now,
        confirm_below_minimum=True,
    )
    worn = session.scalars(
        select(Asset).where(Asset.school_id == schools[0].id, Asset.code == "MHQ-008")
    ).one()
    retire_asset(
        session,
        people["admin1"],
        worn,
        reason="筒体锈蚀，年检判定报废",
        now=now - timedelta(hours=1),
    )


def _assets(
    session: Session, school: School, people: dict[str, Person], index: int, now: datetime
) -> None:
    def place(building: str, floor: str = "", room: str = "") -> Location:
        location = Location(school=school, building=building, floor=floor, room=room)
        session.add(location)
        return location

    admin = people["admin1" if index == 0 else "admin2"]
    inspector = people["inspector1"] if index == 0 else admin
    teacher = people["teacher1" if index == 0 else "teacher2"]
    dorm = people["dorm1"] if index == 0 else admin
    canteen = people["canteen1"] if index == 0 else admin
    teaching = [place("教学楼", f"{floor}层") for floor in (1, 2, 3, 4)]
    for n in range(8):
        side = "东侧" if n % 2 == 0 else "西侧"
        location = teaching[n // 2]
        create_asset(
            session,
            school=school,
            kind=AssetKind.EXTINGUISHER,
            code=f"MHQ-{n + 1:03d}",
            name=f"教学楼{n // 2 + 1}层{side}灭火器",
            location=location,
            responsible=inspector,
            attributes={"agent": "ABC干粉", "capacity_kg": 4},
            now=now,
        )
    for n in range(4):
        create_asset(
            session,
            school=school,
            kind=AssetKind.WATER_DISPENSER,
            code=f"YSJ-{n + 1:03d}",
            name=f"教学楼{n + 1}层饮水机",
            location=teaching[n],
            responsible=dorm,
            attributes={"model": "立式温热型"},
            now=now,
        )
    plates = [("X1234", 36, "马师傅"), ("X5678", 19, "郑师傅")]
    bus_park = place("校车停车场")
    for n, (plate, seats, driver) in enumerate(plates):
        create_asset(
            session,
            school=school,
            kind=AssetKind.BUS,
            code=f"XC-{n + 1:02d}",
            name=f"{n + 1}号校车",
            location=bus_park,
            responsible=teacher,
            attributes={"plate": f"辽A·{plate}{index}", "seats": seats, "driver": driver},
            now=now,
        )
    dorm_building = "学生公寓" if index == 1 else "午休楼"
    for n in range(4):
        room = f"{101 + n}"
        create_asset(
            session,
            school=school,
            kind=AssetKind.DORM_ROOM,
            code=f"SS-{room}",
            name=f"{dorm_building}{room}室",
            location=place(dorm_building, "1层", f"{room}室"),
            responsible=dorm,
            attributes={"beds": 8},
            now=now,
        )
    create_asset(
        session,
        school=school,
        kind=AssetKind.CANTEEN,
        code="ST-01",
        name="学生食堂",
        location=place("食堂", "1层"),
        responsible=canteen,
        now=now,
    )
    plant_room = place("配电房")
    for code, name, meter_type in (
        ("DB-01", "总电表", "electricity"),
        ("SB-01", "总水表", "water"),
    ):
        create_asset(
            session,
            school=school,
            kind=AssetKind.METER,
            code=code,
            name=name,
            location=plant_room,
            responsible=admin,
            attributes={"meter_type": meter_type, "meter_number": f"{index + 1}0{code[-1]}-2026"},
            now=now,
        )
    create_asset(
        session,
        school=school,
        kind=AssetKind.BROADCAST,
        code="GB-01",
        name="校园广播及英语听力系统",
        location=place("行政楼", "2层", "广播室"),
        responsible=admin,
        now=now,
    )
    create_asset(
        session,
        school=school,
        kind=AssetKind.SCHOOL_OFFICE,
        code="HQ-01",
        name="后勤办公室",
        location=place("行政楼", "1层", "后勤办公室"),
        responsible=admin,
        now=now,
    )
    session.flush()


def _photo(seed: int) -> bytes:
    """A stand-in photo: a coloured frame with a number, so thumbnails differ."""
    image = Image.new("RGB", (1200, 900), ((seed * 53) % 255, (seed * 97) % 255, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 100, 1100, 800), outline="white", width=20)
    draw.text((550, 420), str(seed), fill="white")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


DEMO_DUTIES = {
    AssetKind.EXTINGUISHER: ("inspector1", ["extinguisher_monthly"]),
    AssetKind.WATER_DISPENSER: ("dorm1", ["water_dispenser_disinfection"]),
    AssetKind.BUS: ("teacher1", ["bus_pre_trip_check", "bus_departure", "bus_arrival"]),
    AssetKind.DORM_ROOM: ("dorm1", ["dorm_room_disinfection"]),
    AssetKind.CANTEEN: ("canteen1", ["canteen_tableware_disinfection"]),
}


def _food_licence(session: Session, supplier: Supplier, now: datetime) -> None:
    """A designated food supplier's valid 食品经营许可证, issued a year ago for five years."""
    today = now.date()
    session.add(
        Document(
            district_id=supplier.district_id,
            school_id=None,
            kind=DocumentKind.FOOD_BUSINESS_LICENCE,
            title="食品经营许可证",
            number=f"JY1210102{supplier.id:07d}",
            supplier_id=supplier.id,
            issued_on=today - timedelta(days=365),
            expires_on=today + timedelta(days=4 * 365),
            created_at=now - timedelta(days=365),
        )
    )


def _history(
    session: Session,
    settings: Settings,
    schools: list[School],
    people: dict[str, Person],
    now: datetime,
) -> None:
    """About two weeks of records, a few of them failed, so the ledger has something to show:
    the fortnight before today, and this morning's health check, all before `now` (a record
    after it would count in the ledger and not on the dashboard)."""
    store = open_photo_store(settings.storage)
    clock = SettableClock(now - timedelta(days=15))
    assets = list(
        session.scalars(select(Asset).where(Asset.school_id == schools[0].id).order_by(Asset.id))
    )
    seed = 0
    last_photo: bytes | None = None
    for day in range(14):
        clock.set(clock.now().replace(hour=1) + timedelta(days=1))
        for asset in assets[day % 3 :: 3]:
            if asset.kind not in DEMO_DUTIES:
                continue
            filer, template_keys = DEMO_DUTIES[AssetKind(asset.kind)]
            seed += 1
            photo = _photo(seed)
            if seed == 20 and last_photo is not None:
                photo = last_photo  # one photo sent twice: the ledger flags the second record
            for template_key in template_keys:
                template = base_template(session, template_key)
                if template is None:
                    continue
                clock.advance(timedelta(minutes=17))
                submit_record(
                    session,
                    actor=people[filer],
                    asset=asset,
                    template=template,
                    # A failed pre-trip check keeps the bus in the yard: spoil the trip instead.
                    answers=_answers(
                        template.spec,
                        failing=seed % 9 == 0 and template_key != "bus_pre_trip_check",
                    ),
                    uploads=[
                        Upload(item.key, photo)
                        for item in template.spec.items
                        if item.type == "photo" and item.required
                    ],
                    key=uuid.uuid4().hex,
                    channel=Channel.WEB,
                    clock=clock,
                    store=store,
                    # Made-up history files a check every few days, whatever its window.
                    repeat_confirmed=True,
                )
                if any(i.type == "photo" and i.required for i in template.spec.items):
                    last_photo = photo
                if template.spec.trip == "arrival":  # walked to the back, scanned the rear label
                    check_rear(session, people[filer], asset, now=clock.now())
    _refused_departure(session, assets, people["teacher1"], clock, store)
    _counts(session, assets, people["admin1"], clock, store)
    _patrols(session, assets, people["inspector1"], now, store)
    _canteen_rules(session, assets, people, now, store)
    clock.set(now - timedelta(minutes=30))
    _health_check(session, assets, people, clock, store)


def _bus_papers(session: Session, school: School, people: dict[str, Person], now: datetime) -> None:
    """Both buses with their papers in the register. XC-01: inspected two months ago (due again
    in four), its maintenance file, its carrier-liability insurance, and its driver 吴师傅,
    whose qualification is valid but whose annual review (审验) expires next week: the
    register shows it expiring now, and from the day after it expires the bus may not leave.
    XC-02 and its driver 冯师傅: every paper in order. A bus or driver with a paper missing
    may not leave either (models/bus_papers.py)."""
    # Each paper as (issued, expires) in days from today: inspection, maintenance, insurance,
    # then the driver's qualification and annual review.
    fleet = [
        ("XC-01", "driver1", (-61, 122), (-30, 335), (-100, 265), (-400, 695), (-358, 7)),
        ("XC-02", "driver2", (-40, 143), (-20, 345), (-60, 305), (-200, 895), (-90, 275)),
    ]
    today = school.district.local(now).date()
    for code, username, inspection, maintenance, insurance, qualification, review in fleet:
        bus = session.scalars(
            select(Asset).where(Asset.school_id == school.id, Asset.code == code)
        ).one()
        driver = people[username]
        bus.attributes = {**bus.attributes, "driver": driver.display_name}
        papers: list[tuple[DocumentKind, str, Person | None, tuple[int, int], str | None]] = [
            (DocumentKind.BUS_INSPECTION, "校车安全技术检验合格证明", None, inspection, None),
            (DocumentKind.BUS_MAINTENANCE, "校车维护保养档案", None, maintenance, None),
            (
                DocumentKind.INSURANCE_POLICY,
                "承运人责任险保单",
                None,
                insurance,
                "bus_carrier_liability",
            ),
            (
                DocumentKind.DRIVER_QUALIFICATION,
                "校车驾驶资格（驾驶证签注）",
                driver,
                qualification,
                None,
            ),
            (DocumentKind.DRIVER_REVIEW, "驾驶证年度审验", driver, review, None),
        ]
        for kind, title, person, (issued, expires), insurance_type in papers:
            session.add(
                Document(
                    district_id=school.district_id,
                    school_id=school.id,
                    kind=kind,
                    title=title,
                    person_id=person.id if person else None,
                    asset_id=None if person else bus.id,
                    insurance_type=insurance_type,
                    issued_on=today + timedelta(days=issued),
                    expires_on=today + timedelta(days=expires),
                    created_at=now - timedelta(days=30),
                )
            )
    session.flush()


def _health_check(
    session: Session,
    assets: list[Asset],
    people: dict[str, Person],
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    """Today's health check, just filed: 郑师傅's certificate ran out, so it fails naming him,
    although every box was ticked."""
    canteen = next((a for a in assets if a.kind == AssetKind.CANTEEN), None)
    template = base_template(session, "canteen_morning_health_check")
    if canteen is None or template is None:
        return
    today = clock.now().date()
    for username, expires in (
        ("canteen1", today + timedelta(days=200)),
        ("canteen2", today - timedelta(days=10)),
    ):
        person = people[username]
        session.add(
            Document(
                district_id=canteen.school.district_id,
                school_id=canteen.school_id,
                kind=DocumentKind.HEALTH_CERTIFICATE,
                title="健康证明",
                person_id=person.id,
                issued_on=expires - timedelta(days=365),
                expires_on=expires,
                created_at=clock.now(),
            )
        )
    session.flush()
    clock.advance(timedelta(minutes=5))
    submit_record(
        session,
        actor=people["canteen1"],
        asset=canteen,
        template=template,
        # Each cook at work and well: 郑师傅 fails on his certificate alone.
        answers={
            **_answers(template.spec, failing=False),
            **roster_passing_answers(
                template.spec, roster_for(session, template.spec, canteen, clock.now()) or []
            ),
        },
        uploads=[],
        key=uuid.uuid4().hex,
        channel=Channel.WEB,
        clock=clock,
        store=store,
        repeat_confirmed=True,  # the made-up history may have filed this morning's check
    )


def _counts(
    session: Session, assets: list[Asset], admin: Person, clock: SettableClock, store: PhotoStore
) -> None:
    """Meter readings two weeks apart and the milk count of three classes, so the ledger shows
    consumption per period and the start page a subscription rate."""
    start = clock.now() - timedelta(days=14)
    filings: list[tuple[Asset, str, dict[str, str], int]] = []
    for asset in assets:
        if asset.kind == AssetKind.METER:
            power = asset.attributes.get("meter_type") == "electricity"
            base = 252_310 if power else 11_204  # a year and a half read before (_daily_life)
            for step, days in enumerate((0, 7, 14)):
                reading = base + step * (1_850 if power else 96)
                answers = {"reading": str(reading), "abnormal": "no"}
                filings.append((asset, "meter_reading", answers, days))
        elif asset.kind == AssetKind.SCHOOL_OFFICE:
            for name, students, subscribed in (
                ("一年级一班", 42, 36),
                ("二年级一班", 40, 31),
                ("三年级二班", 41, 27),
            ):
                answers = {"class_name": name, "students": str(students)}
                filings.append(
                    (asset, "milk_subscription", {**answers, "subscribed": str(subscribed)}, 13)
                )
    for asset, template_key, answers, days in filings:
        template = base_template(session, template_key)
        if template is None:
            continue
        clock.set(start + timedelta(days=days, minutes=len(answers)))
        day = clock.now().date().isoformat()
        submit_record(
            session,
            actor=admin,
            asset=asset,
            template=template,
            answers={**answers, "read_on": day, "counted_on": day},
            uploads=[
                Upload(item.key, _photo(7))
                for item in template.spec.items
                if item.type == "photo" and item.required
            ],
            key=uuid.uuid4().hex,
            channel=Channel.WEB,
            clock=clock,
            store=store,
            repeat_confirmed=True,  # weekly readings in a monthly window
        )


def _patrols(
    session: Session, assets: list[Asset], inspector: Person, now: datetime, store: PhotoStore
) -> None:
    """The safety officer's daily fire patrol on the fortnight's school days, at 16:30: one day
    forgotten and one unsafe use of power found: the monthly fire check record shows both."""
    office = next((a for a in assets if a.kind == AssetKind.SCHOOL_OFFICE), None)
    template = base_template(session, "fire_patrol")
    if office is None or template is None:
        return
    zone = office.school.district.zone
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=back) for back in range(14, 0, -1)]
    school_days = [day for day in days if day.weekday() < 5]
    forgotten, failed = school_days[len(school_days) // 2], school_days[-2]
    for day in school_days:
        if day == forgotten:
            continue
        failing = day == failed
        submit_record(
            session,
            actor=inspector,
            asset=office,
            template=template,
            answers=_answers(template.spec, failing=failing),
            uploads=[
                Upload(i.key, _photo(40 + day.day))
                for i in template.spec.items
                if failing and i.type == "photo"
            ],
            key=uuid.uuid4().hex,
            channel=Channel.WEB,
            clock=SettableClock(datetime.combine(day, time(16, 30), tzinfo=zone)),
            store=store,
            repeat_confirmed=True,
        )


def _canteen_rules(
    session: Session,
    assets: list[Asset],
    people: dict[str, Person],
    now: datetime,
    store: PhotoStore,
) -> None:
    """The canteen as the food-safety rules ask it: the principal's accompanied lunches of the
    last school days (one with a problem handled), a parent's meal with feedback, the samples
    of each dish three days ago (past 48 hours, one disposed of) and yesterday (still kept),
    and a rice supplier whose food business licence ran out ten days ago: the receiving form
    refuses its goods, naming the licence (a refusal is still recorded). The disinfection
    service's papers are in the register."""
    canteen = next((a for a in assets if a.kind == AssetKind.CANTEEN), None)
    meal = base_template(session, "canteen_accompanied_meal")
    parent = base_template(session, "canteen_parent_meal")
    sample = base_template(session, "canteen_food_sample_retention")
    if canteen is None or meal is None or parent is None or sample is None:
        return
    zone = canteen.school.district.zone
    today = now.astimezone(zone).date()
    principal, cook = people["admin1"], people["canteen1"]

    def at(day: date, hour: int, minute: int = 0) -> SettableClock:
        return SettableClock(datetime.combine(day, time(hour, minute), tzinfo=zone))

    def file(actor: Person, template: Any, answers: dict[str, str], clock: SettableClock) -> Any:
        return submit_record(
            session,
            actor=actor,
            asset=canteen,
            template=template,
            answers=answers,
            uploads=[
                Upload(i.key, _photo(70 + len(answers) + clock.now().day))
                for i in template.spec.items
                if i.type == "photo" and i.required
            ],
            key=uuid.uuid4().hex,
            channel=Channel.WEB,
            clock=clock,
            store=store,
            repeat_confirmed=True,
        ).record

    school_days = [
        d for d in (today - timedelta(days=back) for back in range(7, 0, -1)) if d.weekday() < 5
    ]
    for day in school_days:
        problem = day == school_days[-2]
        file(
            principal,
            meal,
            {
                "meal": "lunch",
                "leader": str(principal.id),
                "dishes": "米饭、番茄炒蛋、清炒油麦菜、紫菜汤",
                "appearance": "good",
                "taste": "fair" if problem else "good",
                "portion": "good",
                "problems_found": "yes" if problem else "no",
                **({"problems": "汤偏咸", "handling": "已告知厨师长，次日减盐"} if problem else {}),
            },
            at(day, 12, 40),
        )
    file(
        principal,
        parent,
        {
            "meal": "lunch",
            "parent": "王芳（三年级二班王小明家长）",
            "satisfaction": "fair",
            "feedback": "米饭有点硬，希望多些粗粮",
            "reply": "已调整蒸饭时间，每周加两次杂粮饭",
        },
        at(school_days[-1], 12, 45),
    )
    kept = []
    for back in (3, 1):
        day = today - timedelta(days=back)
        for n, dish in enumerate(("米饭", "番茄炒蛋", "清炒油麦菜")):
            kept.append(
                file(
                    cook,
                    sample,
                    {
                        "meal": "lunch",
                        "dish": dish,
                        "weight": str(150 + 10 * n),
                        "sampled_at": "11:50",
                        "sampler": str(cook.id),
                        "fridge": "留样专柜 1 号",
                        "fridge_temp": "4",
                        "labelled": "yes",
                    },
                    at(day, 11, 55 + n),
                )
            )
    oldest = kept[0]
    if disposable_from(oldest) + timedelta(minutes=20) < now:
        dispose_sample(session, cook, oldest, disposable_from(oldest) + timedelta(minutes=20))
    mill = add_supplier(
        session,
        people["district"],
        canteen.school.district_id,
        name="金穗粮油贸易部",
        categories=["rice", "flour"],
        designated_brands=[],
        now=now,
    )
    vendor = add_supplier(
        session,
        people["district"],
        canteen.school.district_id,
        name="清源餐具集中消毒中心",
        categories=["tableware_disinfection"],
        designated_brands=[],
        now=now,
    )
    for holder, kind, title, number, expires in (
        (mill, DocumentKind.FOOD_BUSINESS_LICENCE, "食品经营许可证", "JY12101020000123", -10),
        (vendor, DocumentKind.BUSINESS_LICENCE, "营业执照", "91210100MA0XYZ123K", 400),
        (vendor, DocumentKind.TEST_REPORT, "餐饮具消毒检测合格报告", "XD2026-118", 150),
    ):
        session.add(
            Document(
                district_id=canteen.school.district_id,
                school_id=None,
                kind=kind,
                title=title,
                number=number,
                supplier_id=holder.id,
                issued_on=today + timedelta(days=expires - 365),
                expires_on=today + timedelta(days=expires),
                created_at=now - timedelta(days=30),
            )
        )


def _boarding_school(
    session: Session, settings: Settings, school: School, people: dict[str, Person], now: datetime
) -> None:
    """第二中学 is a boarding school: its dorm manager walks the night fire patrol at 21:40 on
    the fortnight's school days (one night a phone left charging on a bed), the head the day
    patrol at 16:30; last month's fire check and a drill of 620 people in September; its
    extinguishers' production dates put one due for service within the month, one past its
    service and one near its scrap date (the register's extinguisher tab, the reminders)."""
    school.boarding = True
    store = open_photo_store(settings.storage)
    zone = school.district.zone
    today = now.astimezone(zone).date()
    assets = list(session.scalars(select(Asset).where(Asset.school_id == school.id)))
    office = next(a for a in assets if a.kind == AssetKind.SCHOOL_OFFICE)
    head, dorm = people["admin2"], people["dorm2"]

    def file(
        key: str,
        actor: Person,
        at: datetime,
        answers: dict[str, str],
        photo: int,
        asset: Asset = office,
    ) -> None:
        template = base_template(session, key)
        if template is None:
            return
        submit_record(
            session,
            actor=actor,
            asset=asset,
            template=template,
            answers=answers,
            uploads=[
                Upload(i.key, _photo(photo)) for i in template.spec.items if i.type == "photo"
            ],
            key=uuid.uuid4().hex,
            channel=Channel.WEB,
            clock=SettableClock(at),
            store=store,
            repeat_confirmed=True,
        )

    def spec_answers(key: str, failing: bool = False) -> dict[str, str]:
        template = base_template(session, key)
        return _answers(template.spec, failing) if template is not None else {}

    days = [today - timedelta(days=back) for back in range(14, 0, -1)]
    school_days = [day for day in days if day.weekday() < 5]
    for n, day in enumerate(school_days):
        file(
            "fire_patrol",
            head,
            datetime.combine(day, time(16, 30), zone),
            spec_answers("fire_patrol"),
            60 + n,
        )
        failing = n == len(school_days) - 3
        night = spec_answers("fire_night_patrol", failing)
        if failing:
            night["other_findings"] = "302 室手机放床上充电过夜，已收走充电器并告知班主任"
        file("fire_night_patrol", dorm, datetime.combine(day, time(21, 40), zone), night, 80 + n)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=10)
    check = {**spec_answers("fire_monthly_check"), "led_by": str(head.id)}
    file("fire_monthly_check", head, datetime.combine(last_month, time(15), zone), check, 100)
    drill = {
        "held_at": f"{today.year if today.month > 9 else today.year - 1}-09-18T10:00",
        "drill_kind": "both",
        "participants": "620",
        "evacuation_minutes": "4",
        "problems_found": "no",
    }
    drill_day = date.fromisoformat(drill["held_at"][:10])
    file("fire_drill", head, datetime.combine(drill_day, time(11), zone), drill, 101)
    made = [
        ("ABC干粉", today - timedelta(days=5 * 365 - 20)),  # first service in about 20 days
        ("ABC干粉", today - timedelta(days=5 * 365 + 40)),  # service overdue
        ("水基型", today - timedelta(days=6 * 365 - 60)),  # scrap date in about 60 days
        ("二氧化碳", today - timedelta(days=2 * 365)),
    ]
    extinguishers = sorted(
        (a for a in assets if a.kind == AssetKind.EXTINGUISHER), key=lambda a: a.code
    )
    for n, asset in enumerate(extinguishers):
        agent, produced = made[n] if n < len(made) else ("ABC干粉", today - timedelta(days=3 * 365))
        asset.attributes = {
            **asset.attributes,
            "agent": agent,
            "production_date": produced.isoformat(),
        }
    # The water-based one was serviced last winter: its next service would fall after its scrap
    # date, so it is to be replaced, not serviced again.
    serviced = datetime.combine(today - timedelta(days=300), time(10), zone)
    maintenance = {
        **spec_answers("extinguisher_annual_maintenance"),
        "company": "安消消防维保有限公司",
        "next_due": (today + timedelta(days=65)).isoformat(),
    }
    file("extinguisher_annual_maintenance", head, serviced, maintenance, 102, extinguishers[2])
    session.flush()


def _extinguisher_dates(
    session: Session, settings: Settings, school: School, inspector: Person, now: datetime
) -> None:
    """The day school's extinguishers carry their agent and production date, so the register and
    each scan page show their service and scrap years: MHQ-001 is due for its first service in
    about three weeks, MHQ-002 was serviced last year and is near its scrap date (10 years for
    dry powder), the others a few years old and in date."""
    zone = school.district.zone
    today = now.astimezone(zone).date()
    year = 365
    made = {
        "MHQ-001": ("ABC干粉", today - timedelta(days=5 * year - 20)),
        "MHQ-002": ("ABC干粉", today - timedelta(days=10 * year - 50)),
        "MHQ-003": ("ABC干粉", today - timedelta(days=3 * year + 40)),
        "MHQ-004": ("ABC干粉", today - timedelta(days=2 * year + 100)),
        "MHQ-005": ("二氧化碳", today - timedelta(days=4 * year)),
    }
    extinguishers = {
        a.code: a
        for a in session.scalars(
            select(Asset).where(Asset.school_id == school.id, Asset.kind == AssetKind.EXTINGUISHER)
        )
    }
    for code, asset in extinguishers.items():
        agent, produced = made.get(code, ("ABC干粉", today - timedelta(days=year + 200)))
        asset.attributes = {
            **asset.attributes,
            "agent": agent,
            "production_date": produced.isoformat(),
        }
    template = base_template(session, "extinguisher_annual_maintenance")
    if template is None:
        return
    # Serviced last year, at 9 years: the next service would fall after its scrap date.
    serviced = datetime.combine(today - timedelta(days=330), time(10), zone)
    submit_record(
        session,
        actor=inspector,
        asset=extinguishers["MHQ-002"],
        template=template,
        answers={
            **_answers(template.spec, False),
            "company": "安消消防维保有限公司",
            "next_due": (today + timedelta(days=35)).isoformat(),
        },
        uploads=[Upload(i.key, _photo(110)) for i in template.spec.items if i.type == "photo"],
        key=uuid.uuid4().hex,
        channel=Channel.WEB,
        clock=SettableClock(serviced),
        store=open_photo_store(settings.storage),
        repeat_confirmed=True,
    )
    session.flush()


def _refused_departure(
    session: Session, assets: list[Asset], teacher: Person, clock: SettableClock, store: PhotoStore
) -> None:
    """A departure the escort teacher was not on: refused, and the administrators alerted."""
    bus = next((a for a in assets if a.kind == AssetKind.BUS), None)
    template = base_template(session, "bus_departure")
    if bus is None or template is None:
        return
    clock.advance(timedelta(minutes=30))
    answers = {**_answers(template.spec, failing=False), "teacher_on_board": "no"}
    with suppress(SubmissionInvalid):  # refused, as it should be; the alert stays
        submit_record(
            session,
            actor=teacher,
            asset=bus,
            template=template,
            answers=answers,
            uploads=[],
            key=uuid.uuid4().hex,
            channel=Channel.WEB,
            clock=clock,
            store=store,
        )


def _answers(spec: TemplateSpec, failing: bool) -> dict[str, str]:
    """Answers a careful member of staff would give; `failing` spoils one of them."""
    answers: dict[str, str] = {}
    for item in spec.items:
        if item.type == "roster" or item.roster:
            continue  # asked of each person on the roster (roster_passing_answers)
        if item.type == "pass_fail":
            answers[item.key] = "pass"
        elif item.type == "yes_no":
            answers[item.key] = item.expect or "yes"
        elif item.type == "number":
            answers[item.key] = "18" if item.key.startswith("children") else "30"
        elif item.type == "text" and item.required:
            answers[item.key] = "蒸汽消毒"
        elif item.type == "single_choice" and item.required and not item.fail_values:
            answers[item.key] = item.options[0].value
        elif item.type == "time" and item.required:
            answers[item.key] = "13:20"
    if failing:
        first = next((i for i in spec.items if i.type == "pass_fail"), None)
        if first is not None:
            answers[first.key] = "fail"
        elif "children_got_off" in answers:
            answers["children_got_off"] = "17"
    return answers


# The first school's gate guard, cleaner and water-delivery man (issue 12's roles).
DAILY_LIFE_PEOPLE = [
    ("guard1", "13800000013", "门卫 黄师傅", Role.GUARD),
    ("cleaner1", "13800000014", "保洁 何阿姨", Role.CLEANER),
    ("water1", "13800000015", "送水 马师傅", Role.WATER_STAFF),
]


def _daily_life(
    session: Session,
    settings: Settings,
    schools: list[School],
    people: dict[str, Person],
    now: datetime,
) -> None:
    """Dorms, water, milk, energy, orders and training (issue 12): a guard, a cleaner and a
    water-delivery man; a student-milk producer and a delivery with damaged packs; a year and
    a half of monthly meter readings (this year a little below the last); milk counts rising
    month by month; a water test report expiring in three weeks; dispensers cleaned every 30
    days in summer and every 60 in winter; the autumn uniform order unpaid past its date; a
    fire-safety training. Filed before the fortnight's history, which reads the meters on."""
    school = schools[0]
    district = school.district
    store = open_photo_store(settings.storage)
    clock = SettableClock(now - timedelta(days=30))
    admin = people["admin1"]
    staff = {}
    for username, phone, name, role in DAILY_LIFE_PEOPLE:
        staff[username] = create_person(
            session,
            username=username,
            display_name=name,
            password=DEMO_PASSWORD,
            phone=phone,
            now=now,
        )
        grant_role(session, staff[username], role, school)
    session.add(
        Document(
            district_id=district.id,
            school_id=school.id,
            kind=DocumentKind.HEALTH_CERTIFICATE,
            title="健康证明",
            person_id=staff["water1"].id,
            expires_on=now.date() + timedelta(days=10),
            created_at=now - timedelta(days=300),
        )
    )
    dairy = add_supplier(
        session,
        people["district"],
        district.id,
        name="光明学生奶（定点企业）",
        categories=["milk"],
        designated_brands=[],
        now=now,
    )
    session.add(
        Document(
            district_id=district.id,
            school_id=None,
            kind=DocumentKind.FOOD_PRODUCTION_LICENCE,
            title="食品生产许可证",
            number="SC10521010200123",
            supplier_id=dairy.id,
            issued_on=now.date() - timedelta(days=400),
            expires_on=now.date() + timedelta(days=1400),
            created_at=now - timedelta(days=400),
        )
    )
    for duty in ensure_builtin_duties(
        session, district, now=now, policy=sweep_policy(settings).defaults
    ):
        if duty.template_key == "water_dispenser_disinfection":
            duty.rule = Rule(
                Frequency.EVERY_N_DAYS, time(17, 0), every_days=30, winter_every_days=60
            ).to_json()
    assets = list(
        session.scalars(select(Asset).where(Asset.school_id == school.id).order_by(Asset.id))
    )
    office = next(a for a in assets if a.kind == AssetKind.SCHOOL_OFFICE)

    def file(asset: Asset, key: str, answers: dict[str, str], at: datetime, who: Person) -> None:
        template = base_template(session, key)
        assert template is not None
        clock.set(at)
        submit_record(
            session,
            actor=who,
            asset=asset,
            template=template,
            answers=answers,
            uploads=[
                Upload(item.key, _photo(11))
                for item in template.spec.items
                if item.type == "photo" and item.required
            ],
            key=uuid.uuid4().hex,
            channel=Channel.WEB,
            clock=clock,
            store=store,
            repeat_confirmed=True,
        )

    # Meter readings on the 1st of each month for a year and a half, before the fortnight's.
    first = (now - timedelta(days=15)).date()
    months = [
        date(first.year - 2 + (first.month + i - 1) // 12, (first.month + i - 1) % 12 + 1, 1)
        for i in range(6, 25)
    ]
    months = [m for m in months if m < first]
    for meter in (a for a in assets if a.kind == AssetKind.METER):
        power = meter.attributes.get("meter_type") == "electricity"
        uses = []
        for month in months:
            this_year = month > first - timedelta(days=365)
            peak = month.month in (12, 1, 2, 7, 8)  # heating and air conditioning
            use = (8_400 if peak else 7_300) if power else (380 if peak else 430)
            uses.append(round(use * (0.92 if this_year else 1.0)))
        # Counted back from the fortnight's first reading (_counts), so they run on into it.
        reading = (252_310 if power else 11_204) - (first - months[-1]).days * (
            220 if power else 12
        )
        readings = [reading]
        for use in reversed(uses[:-1]):  # the last month's use runs on into the fortnight's
            reading -= use
            readings.insert(0, reading)
        for month, value in zip(months, readings, strict=True):
            answers = {"reading": str(value), "read_on": month.isoformat(), "abnormal": "no"}
            file(meter, "meter_reading", answers, datetime.combine(month, time(2), UTC), admin)
    # Milk: the same three classes counted each month, more subscribing as the term goes on.
    for back, extra in ((150, 0), (120, 2), (90, 3), (60, 5), (30, 6)):
        day = now - timedelta(days=back)
        for name, students, subscribed in (
            ("一年级一班", 42, 28),
            ("二年级一班", 40, 24),
            ("三年级二班", 41, 18),
        ):
            answers = {
                "class_name": name,
                "students": str(students),
                "subscribed": str(subscribed + extra),
                "counted_on": day.date().isoformat(),
            }
            file(office, "milk_subscription", answers, day, people["teacher1"])
    delivery = {
        "supplier": str(dairy.id),
        "packs": "960",
        "certificate": "yes",
        "use_by": (now + timedelta(days=20)).date().isoformat(),
        "in_date": "yes",
        "damaged_packs": "3",
        "storage_ok": "pass",
    }
    file(office, "milk_delivery", delivery, now - timedelta(days=20), people["teacher1"])
    report = {
        "supplier": "清泉桶装水公司",
        "qs_certified": "yes",
        "report_date": (now - timedelta(days=68)).date().isoformat(),
        "test_result": "pass",
        "valid_until": (now + timedelta(days=21)).date().isoformat(),
    }
    file(office, "water_quarterly_report", report, now - timedelta(days=60), people["inspector1"])
    add_order(
        session,
        admin,
        school,
        goods="uniforms",
        year=now.year,
        term="autumn",
        grades=["g1"],
        quantity=168,
        collected="25200.00",
        settle_by=now.date() - timedelta(days=5),
        note="秋季校服两套（夏装、运动装）",
        now=now,
    )
    books = add_order(
        session,
        admin,
        school,
        goods="exercise_books",
        year=now.year,
        term="autumn",
        grades=["g1", "g2", "g3", "g4", "g5", "g6"],
        quantity=14_400,
        collected="0",
        settle_by=now.date() - timedelta(days=40),
        note="免费配发，区财政结算",
        now=now,
    )
    settle_order(session, admin, books, now.date() - timedelta(days=45), today=now.date())
    add_training(
        session,
        admin,
        school,
        topic="宿舍消防“四个能力”和疏散演练培训",
        held_on=now.date() - timedelta(days=40),
        trainer="区消防救援大队 王教官",
        hours="2",
        attendee_ids=[people["dorm1"].id, staff["guard1"].id, staff["cleaner1"].id],
        today=now.date(),
        now=now,
    )
