"""The demo's canteen shows the food-safety rules: accompanied meals, samples awaiting their
disposal, and a supplier refused for its expired licence."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind
from models.checklists import FormTemplate
from models.documents import local_today
from models.food_samples import kept_samples
from models.org import School
from models.records import Record
from models.supplier_licences import unlicensed_for_categories
from models.suppliers import Supplier
from tests.houqin.conftest import DEMO_NOW as NOW


def test_the_demo_canteen_has_accompanied_meals_kept_samples_and_a_lapsed_supplier(
    demo: Session,
) -> None:
    school = demo.scalars(select(School).where(School.code == "SY01")).one()
    canteen = demo.scalars(
        select(Asset).where(Asset.school_id == school.id, Asset.kind == AssetKind.CANTEEN)
    ).first()
    assert canteen is not None

    meals = demo.scalars(
        select(Record).join(Record.template).where(FormTemplate.key == "canteen_accompanied_meal")
    ).all()
    assert len(meals) >= 4 and any(m.answers.get("problems") for m in meals)
    samples = kept_samples(demo, canteen, NOW)
    assert [s.ready for s in samples] == [True, True, False, False, False]
    suppliers = demo.scalars(select(Supplier)).all()
    lapsed = unlicensed_for_categories(demo, suppliers, local_today(NOW, school.district))
    names = {demo.get_one(Supplier, supplier_id).name for supplier_id in lapsed}
    assert names == {"金穗粮油贸易部"}
    assert "2026-11-22" in str(lapsed[next(iter(lapsed))][0].params)
