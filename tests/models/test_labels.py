"""The label sheet: every asset's label, and each bus's second label for its rear (车尾)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.labels import label_infos
from tests.factories import make_asset, make_school


def test_the_sheet_prints_each_bus_rear_label_marked_after_its_front_one(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    make_asset(session, clock, school)

    infos = label_infos(session, "https://houqin.test", school, None)

    names = [info.name for info in infos]
    assert names.count("1号校车") == 1 and names.count("1号校车（车尾）") == 1
    assert names.index("1号校车（车尾）") == names.index("1号校车") + 1
    rear = next(i for i in infos if i.name == "1号校车（车尾）")
    assert rear.url == f"https://houqin.test/s/{bus.rear_label.token}"
    assert len(infos) == 3  # the extinguisher has only its one label
