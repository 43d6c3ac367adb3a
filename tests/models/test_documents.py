"""Documents: certificates that expire and are renewed, suppliers' papers, insurances."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import models.documents  # noqa: F401  (its tables must be in the metadata before they are made)
from models.assets import AssetKind
from models.clock import SettableClock
from models.documents import (
    CertificateShare,
    Document,
    DocumentKind,
    DocumentStatus,
    add_document,
    certificate_shares,
    expiring_documents,
    find_holder,
    insurance_in_force,
    local_today,
    missing_insurances,
    parse_date,
    people_register,
    person_certificates,
    renew_document,
    valid_certificate_share,
)
from models.messages import SubmissionInvalid
from models.org import District
from models.people import Role
from models.photos import Photo, PhotoStore
from models.stored_files import DocumentFile, StoredFile
from models.suppliers import (
    RegisterRefused,
    add_supplier,
)
from tests.factories import (
    field_errors,
    jpeg_bytes,
    make_asset,
    make_certificate,
    make_district_admin,
    make_person,
    make_school,
)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("expires_on", "status"),
    [
        (None, DocumentStatus.NO_EXPIRY),
        (date(2026, 3, 1), DocumentStatus.EXPIRED),
        (date(2026, 3, 2), DocumentStatus.EXPIRING),  # valid through its last day
        (date(2026, 4, 1), DocumentStatus.EXPIRING),  # 30 days ahead: inside the window
        (date(2026, 4, 2), DocumentStatus.VALID),  # 31 days ahead
    ],
)
def test_status_by_date_with_a_30_day_window(expires_on: date | None, status: str) -> None:
    assert Document(expires_on=expires_on).status(TODAY) == status


def test_the_window_counts_days_across_a_leap_day() -> None:
    document = Document(expires_on=date(2028, 3, 30))

    # 2028 is a leap year: from 29 February to 30 March is 30 days, not 29.
    assert document.status(date(2028, 2, 29)) == DocumentStatus.EXPIRING
    assert document.status(date(2028, 2, 28)) == DocumentStatus.VALID
    assert Document(expires_on=date(2028, 2, 29)).status(date(2028, 3, 1)) == "expired"
    assert Document(expires_on=date(2028, 2, 29)).status(date(2028, 2, 29)) == "expiring"


def test_today_is_the_districts_date_not_utcs() -> None:
    late_evening_utc = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)

    district = District(code="D", name="D", timezone="Asia/Shanghai")

    assert local_today(late_evening_utc, district) == date(2026, 3, 2)


def test_dates_are_read_as_typed_or_refused() -> None:
    assert parse_date("2026-03-31") == date(2026, 3, 31)
    assert parse_date("2026/3/31") == date(2026, 3, 31)
    assert parse_date("2026年3月31日") == date(2026, 3, 31)
    assert parse_date("  ") is None
    with pytest.raises(ValueError):
        parse_date("2026-02-30")
    with pytest.raises(ValueError):
        parse_date("next week")


def test_an_admin_adds_a_health_certificate_with_a_photo(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, cook = canteen_school

    document = make_certificate(
        session,
        clock,
        store,
        admin,
        school,
        cook,
        number="HC-001",
        issued_on="2026-01-31",
        upload=DocumentFile(jpeg_bytes(), "IMG_0001.jpg", "image/jpeg"),
    )

    assert document.school_id == school.id and document.district_id == school.district_id
    assert document.person is cook and document.holder_kind == "person"
    assert document.issued_on == date(2026, 1, 31)
    assert document.photo is not None and store.path(document.photo.storage_key).is_file()
    assert person_certificates(session, cook) == [document]


def test_a_pdf_is_stored_once_by_its_content(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, cook = canteen_school

    first = make_certificate(
        session, clock, store, admin, school, cook, upload=DocumentFile(PDF, "scan.pdf")
    )
    second = make_certificate(
        session, clock, store, admin, school, cook, upload=DocumentFile(PDF, "again.pdf")
    )

    assert first.file is second.file
    assert store.read(first.file.storage_key) == PDF
    assert session.scalar(select(func.count()).select_from(StoredFile)) == 1


def test_a_file_that_says_pdf_but_is_not_is_refused(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, cook = canteen_school

    with pytest.raises(SubmissionInvalid) as excinfo:
        make_certificate(
            session,
            clock,
            store,
            admin,
            school,
            cook,
            upload=DocumentFile(b"<html>not a pdf</html>", "scan.pdf", "application/pdf"),
        )

    assert field_errors(excinfo) == {"file": "This file is not a PDF."}
    assert session.scalar(select(func.count()).select_from(Document)) == 0


def test_files_that_are_neither_photo_nor_pdf_or_too_large_are_refused(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, cook = canteen_school
    big_pdf = PDF + b"0" * (10 * 1024 * 1024)

    with pytest.raises(SubmissionInvalid) as text_file:
        make_certificate(
            session, clock, store, admin, school, cook, upload=DocumentFile(b"hello", "a.txt")
        )
    with pytest.raises(SubmissionInvalid) as too_big:
        make_certificate(
            session, clock, store, admin, school, cook, upload=DocumentFile(big_pdf, "big.pdf")
        )

    assert field_errors(text_file) == {"file": "Send a photo or a PDF of the document."}
    assert field_errors(too_big) == {"file": "This PDF is larger than 10 MB."}
    assert session.scalar(select(func.count()).select_from(Photo)) == 0
    assert not (store.root / "files").exists()


def test_each_bad_field_gets_its_own_message(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, _ = canteen_school

    with pytest.raises(SubmissionInvalid) as excinfo:
        add_document(
            session,
            admin,
            school=school,
            holder=None,
            kind=DocumentKind.INSURANCE_POLICY,
            title="  ",
            issued_on="2026-03-01",
            expires_on="2026-02-28",
            store=store,
            now=clock.now(),
        )
    with pytest.raises(SubmissionInvalid) as bad_kind_and_date:
        add_document(
            session,
            admin,
            school=school,
            holder=None,
            kind="passport",
            title="护照",
            expires_on="soon",
            store=store,
            now=clock.now(),
        )

    assert field_errors(excinfo) == {
        "title": "Enter a title.",
        "expires_on": "The expiry date must be after the issue date.",
        "insurance_type": "Choose the type of insurance.",
    }
    assert field_errors(bad_kind_and_date) == {
        "kind": "Choose the kind of document.",
        "expires_on": "Enter a date like 2026-03-31.",
    }


def test_the_holder_must_be_at_the_same_school_and_fit_the_kind(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, _ = canteen_school
    other = make_school(session, "S2", "第二小学", district=school.district)
    stranger = make_person(session, clock, other, Role.CANTEEN_STAFF, "stranger")
    other_bus = make_asset(session, clock, other, AssetKind.BUS, "BUS-9", "二小校车")
    extinguisher = make_asset(session, clock, school)

    refusals = {}
    for name, holder, kind, insurance in [
        ("stranger", stranger, DocumentKind.HEALTH_CERTIFICATE, None),
        ("other_bus", other_bus, DocumentKind.DRIVER_APPROVAL, None),
        ("school_health", None, DocumentKind.HEALTH_CERTIFICATE, None),
        ("carrier_on_school", None, DocumentKind.INSURANCE_POLICY, "bus_carrier_liability"),
        (
            "carrier_on_extinguisher",
            extinguisher,
            DocumentKind.INSURANCE_POLICY,
            "bus_carrier_liability",
        ),
    ]:
        with pytest.raises(SubmissionInvalid) as excinfo:
            make_certificate(
                session, clock, store, admin, school, holder, kind=kind, insurance_type=insurance
            )
        refusals[name] = field_errors(excinfo)["holder"]

    assert refusals == {
        "stranger": "This person has no role at this school.",
        "other_bus": "This asset belongs to another school.",
        "school_health": "Choose a holder that fits this kind of document.",
        "carrier_on_school": "Carrier liability insurance is held by a bus.",
        "carrier_on_extinguisher": "Carrier liability insurance is held by a bus.",
    }


def test_a_form_names_holders_that_must_exist(session: Session, canteen_school) -> None:
    _, _, cook = canteen_school

    assert find_holder(session, f"person-{cook.id}") is cook
    assert find_holder(session, "school") is None
    for junk in ("person-999999", "person-", "robot-1", "person-99999999999999", ""):
        with pytest.raises(SubmissionInvalid):
            find_holder(session, junk)


def test_only_the_schools_or_districts_administrators_add_and_renew(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, cook = canteen_school
    other = make_school(session, "S2", "第二小学", district=school.district)
    other_admin = make_person(session, clock, other, Role.SCHOOL_ADMIN, "other-admin")
    district = make_district_admin(session, clock, other)
    document = make_certificate(session, clock, store, admin, school, cook)

    for actor in (cook, other_admin):
        with pytest.raises(RegisterRefused):
            make_certificate(session, clock, store, actor, school, cook)
        with pytest.raises(RegisterRefused):
            renew_document(session, actor, document, title="新证", store=store, now=clock.now())

    renewed = renew_document(
        session,
        district,
        document,
        title="新证",
        expires_on="2028-01-31",
        store=store,
        now=clock.now(),
    )
    assert document.replaced_by is renewed
    assert renewed.person is cook and renewed.kind == DocumentKind.HEALTH_CERTIFICATE


def test_a_renewal_replaces_the_old_document_once(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, cook = canteen_school
    old = make_certificate(session, clock, store, admin, school, cook, expires_on=date(2026, 3, 10))

    new = renew_document(
        session,
        admin,
        old,
        title="健康证（新）",
        expires_on="2027-03-10",
        store=store,
        now=clock.now(),
    )

    assert person_certificates(session, cook) == [new]
    assert expiring_documents(session, admin, TODAY) == []
    with pytest.raises(RegisterRefused):
        renew_document(session, admin, old, title="再次", store=store, now=clock.now())


def test_valid_certificate_share_counts_canteen_staff_with_a_valid_healthmake_certificate(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, cook = canteen_school
    baker = make_person(session, clock, school, Role.CANTEEN_STAFF, "baker")
    helper = make_person(session, clock, school, Role.CANTEEN_STAFF, "helper")
    make_person(session, clock, school, Role.TEACHER, "teacher")
    make_certificate(session, clock, store, admin, school, cook, expires_on=date(2026, 3, 20))
    make_certificate(session, clock, store, admin, school, baker, expires_on=date(2026, 3, 1))
    make_certificate(
        session, clock, store, admin, school, helper, kind=DocumentKind.TRAINING_CERTIFICATE
    )

    valid, staff = valid_certificate_share(
        session, school.id, DocumentKind.HEALTH_CERTIFICATE, Role.CANTEEN_STAFF, TODAY
    )

    assert valid == [cook]  # expiring soon still counts; expired and the wrong kind do not
    assert {p.username for p in staff} == {"cook", "baker", "helper"}
    # The school's figure: 1 of 3 canteen staff; no dorm staff, so no dorm figure.
    assert certificate_shares(session, school.id, TODAY) == [
        CertificateShare(Role.CANTEEN_STAFF, DocumentKind.HEALTH_CERTIFICATE, 1, 3)
    ]


def test_expiring_documents_soonest_first_and_only_what_the_viewer_may_see(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, cook = canteen_school
    bus = make_asset(session, clock, school, AssetKind.BUS, "BUS-1", "一号校车")
    soon = make_certificate(
        session, clock, store, admin, school, cook, expires_on=date(2026, 3, 20)
    )
    expired = make_certificate(
        session, clock, store, admin, school, cook, expires_on=date(2026, 2, 1)
    )
    make_certificate(session, clock, store, admin, school, cook, expires_on=date(2026, 6, 1))
    make_certificate(session, clock, store, admin, school, cook, expires_on=None)
    carrier = make_certificate(
        session,
        clock,
        store,
        admin,
        school,
        bus,
        kind=DocumentKind.INSURANCE_POLICY,
        insurance_type="bus_carrier_liability",
        expires_on=date(2026, 3, 5),
    )
    other = make_school(session, "S2", "第二小学")
    outsider = make_person(session, clock, other, Role.SCHOOL_ADMIN, "outsider")

    assert expiring_documents(session, admin, TODAY) == [expired, carrier, soon]
    # A bus's insurance is for the administrators and the bus staff, not the canteen.
    assert expiring_documents(session, cook, TODAY, within_days=10) == [expired]
    assert expiring_documents(session, outsider, TODAY) == []


def test_supplier_documents_belong_to_the_district(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, _ = canteen_school
    district = make_district_admin(session, clock, school)
    supplier = add_supplier(
        session, district, school.district_id, name="水厂", categories=["water"], now=clock.now()
    )
    elsewhere = make_school(session, "S9", "外区小学")

    report = make_certificate(
        session,
        clock,
        store,
        district,
        school,
        supplier,
        kind=DocumentKind.TEST_REPORT,
        title="水质检测报告",
        expires_on=date(2026, 3, 31),
    )
    with pytest.raises(SubmissionInvalid) as excinfo:
        make_certificate(
            session,
            clock,
            store,
            district,
            elsewhere,
            supplier,
            kind=DocumentKind.FOOD_PRODUCTION_LICENCE,
        )

    assert report.school_id is None and report.district_id == school.district_id
    assert supplier.current_documents == [report]
    assert expiring_documents(session, admin, TODAY, school=school) == [report]
    assert field_errors(excinfo) == {"holder": "This supplier serves another district."}


def test_missing_insurances_name_the_school_and_each_bus(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, _ = canteen_school
    bus = make_asset(session, clock, school, AssetKind.BUS, "BUS-1", "一号校车")
    for insurance in ("student_accident", "school_liability"):
        make_certificate(
            session,
            clock,
            store,
            admin,
            school,
            None,
            kind=DocumentKind.INSURANCE_POLICY,
            insurance_type=insurance,
        )
    make_certificate(
        session,
        clock,
        store,
        admin,
        school,
        None,
        kind=DocumentKind.INSURANCE_POLICY,
        insurance_type="medical",
        expires_on=date(2026, 1, 1),
    )

    assert missing_insurances(session, school, TODAY) == [
        ("medical", None),
        ("bus_carrier_liability", bus),
    ]
    # The district's score counts the same, for many schools at once: 2 of 4 in force.
    assert insurance_in_force(session, [school.id], TODAY) == {school.id: (2, 4)}


def test_the_people_register_and_its_holders_are_the_active_staff_at_the_school(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, cook = canteen_school
    district_admin = make_district_admin(session, clock, school)
    left = make_person(session, clock, school, Role.CANTEEN_STAFF, "left")
    left.active = False

    register = people_register(session, school, TODAY)
    refusals = {}
    for name, holder in (("district", district_admin), ("left", left)):
        with pytest.raises(SubmissionInvalid) as excinfo:
            make_certificate(session, clock, store, admin, school, holder)
        refusals[name] = field_errors(excinfo)["holder"]

    assert [(e.person.username, e.roles) for e in register] == [
        ("admin", [Role.SCHOOL_ADMIN]),
        ("cook", [Role.CANTEEN_STAFF]),
    ]
    # A switched-off login is no one at the school: once, a certificate could still be added.
    assert refusals == {
        "district": "This person has no role at this school.",
        "left": "This person has no role at this school.",
    }
    assert make_certificate(session, clock, store, admin, school, cook).person is cook


def test_water_staff_need_a_health_certificate_and_guards_and_cleaners_a_training_one(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, _ = canteen_school
    water = make_person(session, clock, school, Role.WATER_STAFF, "water")
    guard = make_person(session, clock, school, Role.GUARD, "guard")
    make_person(session, clock, school, Role.CLEANER, "cleaner")
    make_certificate(session, clock, store, admin, school, water, expires_on=date(2026, 3, 1))
    make_certificate(
        session, clock, store, admin, school, guard, kind=DocumentKind.TRAINING_CERTIFICATE
    )

    missing = {e.person.username: e.missing for e in people_register(session, school, TODAY)}

    assert missing["water"] == [DocumentKind.HEALTH_CERTIFICATE]  # expired the day before
    assert missing["guard"] == []
    assert missing["cleaner"] == [DocumentKind.TRAINING_CERTIFICATE]
    shares = certificate_shares(session, school.id, TODAY)
    assert CertificateShare(Role.WATER_STAFF, DocumentKind.HEALTH_CERTIFICATE, 0, 1) in shares
    assert CertificateShare(Role.GUARD, DocumentKind.TRAINING_CERTIFICATE, 1, 1) in shares
