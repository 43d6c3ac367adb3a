"""The supplier register: approved per category, managed by district administrators."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

import models.documents  # noqa: F401  (its tables must be in the metadata before they are made)
from models import suppliers
from models.clock import SettableClock
from models.documents import (
    DocumentKind,
)
from models.messages import SubmissionInvalid
from models.photos import PhotoStore
from models.suppliers import (
    RegisterRefused,
    add_supplier,
    is_approved,
    suppliers_for,
    update_supplier,
)
from tests.factories import (
    field_errors,
    make_certificate,
    make_district_admin,
)


def test_suppliers_are_approved_per_category(
    session: Session, clock: SettableClock, canteen_school
) -> None:
    school, _, _ = canteen_school
    district = make_district_admin(session, clock, school)

    grain = add_supplier(
        session,
        district,
        school.district_id,
        name="粮油公司",
        categories=["rice", "oil"],
        designated_brands=["金龙鱼", " ", "金龙鱼"],
        now=clock.now(),
    )
    butcher = add_supplier(
        session,
        district,
        school.district_id,
        name="肉联厂",
        categories=["meat"],
        designated_brands=["双汇"],
        now=clock.now(),
    )

    assert is_approved(grain, "rice") and not is_approved(grain, "meat")
    assert grain.designated_brands == ["金龙鱼"]
    assert suppliers_for(session, school.district_id, "meat") == [butcher]
    assert set(suppliers_for(session, school.district_id)) == {butcher, grain}

    update_supplier(
        session,
        district,
        butcher,
        name="肉联厂",
        categories=["meat"],
        active=False,
        now=clock.now(),
    )
    assert not is_approved(butcher, "meat")
    assert suppliers_for(session, school.district_id, "meat") == []


def test_only_district_administrators_manage_suppliers(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_school
) -> None:
    school, admin, _ = canteen_school
    district = make_district_admin(session, clock, school)
    supplier = add_supplier(
        session, district, school.district_id, name="水厂", categories=["water"], now=clock.now()
    )

    with pytest.raises(RegisterRefused):
        add_supplier(
            session, admin, school.district_id, name="另一家", categories=["rice"], now=clock.now()
        )
    with pytest.raises(RegisterRefused):
        update_supplier(
            session, admin, supplier, name="改名", categories=["water"], now=clock.now()
        )
    with pytest.raises(RegisterRefused):
        make_certificate(
            session, clock, store, admin, school, supplier, kind=DocumentKind.TEST_REPORT
        )


def test_supplier_fields_are_checked(
    session: Session, clock: SettableClock, canteen_school
) -> None:
    school, _, _ = canteen_school
    district = make_district_admin(session, clock, school)
    add_supplier(
        session, district, school.district_id, name="水厂", categories=["water"], now=clock.now()
    )

    with pytest.raises(SubmissionInvalid) as excinfo:
        add_supplier(
            session,
            district,
            school.district_id,
            name="水厂",
            phone="call me",
            categories=["rice", "gold"],
            designated_brands=["x" * 101],
            now=clock.now(),
        )
    with pytest.raises(SubmissionInvalid) as empty:
        add_supplier(session, district, school.district_id, name="", categories=[], now=clock.now())

    assert field_errors(excinfo) == {
        "name": "A supplier with this name is already registered.",
        "phone": "Enter a mobile number (11 digits starting with 1) "
        "or a landline with its area code, like 024-23456789.",
        "categories": "Choose categories from the list.",
        "designated_brands": "Each brand at most %(count)d characters.",
    }
    assert field_errors(empty) == {
        "name": "Enter the supplier's name.",
        "categories": "Choose at least one category of goods.",
    }


def test_brands_typed_in_the_form_or_a_spreadsheet_cell_split_the_same_way() -> None:
    from models.suppliers import split_list

    assert split_list("双汇，雨润\n金锣|众品、双汇; ") == ["双汇", "雨润", "金锣", "众品"]


def test_a_name_taken_a_moment_ago_refuses_the_rename_and_keeps_the_supplier_as_it_was(
    session: Session, clock: SettableClock, canteen_school, monkeypatch: pytest.MonkeyPatch
) -> None:
    school, _, _ = canteen_school
    district = make_district_admin(session, clock, school)
    add_supplier(
        session, district, school.district_id, name="水厂", categories=["water"], now=clock.now()
    )
    dairy = add_supplier(
        session, district, school.district_id, name="粮油", categories=["rice"], now=clock.now()
    )
    session.commit()
    # The other save lands between this one's check and its write.
    monkeypatch.setattr(suppliers, "_check_supplier", lambda *args, **kwargs: {})

    with pytest.raises(SubmissionInvalid) as refused:
        update_supplier(session, district, dairy, name="水厂", categories=["rice"], now=clock.now())
    session.commit()

    assert field_errors(refused) == {"name": "A supplier with this name is already registered."}
    session.expire_all()
    assert dairy.name == "粮油"
