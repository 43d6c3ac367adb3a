"""The fire record, the water report and the district's report signatures in the browser's
terms: every line linking to its record, the head signing, the quarter without a test report
said plainly, and each reader seeing only the schools they may."""

from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient
from pdfminer.high_level import extract_text
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.people import Role
from models.photos import PhotoStore
from tests.conftest import Auth, csrf_token
from tests.factories import (
    FireMonth,
    WaterQuarter,
    cst,
    make_asset,
    make_district_admin,
    make_person,
    make_school,
)

FIRE = "/reports/S1/fire-safety/monthly/2026-03-01"
WATER = "/reports/S1/drinking-water/quarterly/2026-01-01"


@pytest.fixture
def fire(session: Session, clock: SettableClock, store: PhotoStore) -> FireMonth:
    world = FireMonth(session, clock, store)
    world.live_through(31)
    clock.set(cst(1, 10, month=4))
    session.commit()
    return world


@pytest.fixture
def water(session: Session, clock: SettableClock, store: PhotoStore) -> WaterQuarter:
    world = WaterQuarter(session, clock, store)
    world.live_through_march()
    clock.set(cst(1, 10, month=4))
    session.commit()
    return world


def test_the_fire_record_reads_the_month_with_every_line_linked_to_its_record(
    client: FlaskClient, auth: Auth, fire: FireMonth
) -> None:
    auth.login("admin")

    page = client.get(FIRE).get_data(as_text=True)

    assert "每月防火检查记录" in page and "公安部令第61号" in page
    assert "已巡查／应巡查天数</dt><dd>21 / 22" in page
    assert '<td>2026-03-04</td><td><span class="badge fail">漏做</span> 每日防火巡查记录' in page
    assert (
        '<span class="badge fail">逾期整改</span> 2026-03-12 09:00 · 清走楼梯间堆放的桌椅' in page
    )
    assert '<a href="/records/1">2026-02-27</a>' in page and "常闭式防火门未关闭" in page
    assert "一楼东侧灭火器" in page and "消防演练记录" in page
    links = re.findall(r'href="/records/(\d+)"', page)
    # 21 patrols, one extinguisher check, one drill, the blocked route's and February's door.
    assert len(set(links)) == 24
    for record_id in set(links):
        assert client.get(f"/records/{record_id}").status_code == 200
    assert client.get("/reports/S1/fire-safety/monthly/2026-03-15").headers["Location"] == FIRE
    assert client.get("/reports/S1/fire-safety/quarterly/2026-01-01").status_code == 404


def test_the_head_signs_the_fire_record_and_it_then_reads_as_signed(
    client: FlaskClient, auth: Auth, fire: FireMonth
) -> None:
    auth.login("admin")
    page = client.get(FIRE).get_data(as_text=True)

    response = client.post(
        FIRE,
        data={
            "csrf_token": csrf_token(page),
            "notes": "防火门已报修",
            "do": "sign",
            "confirm": "yes",
        },
    )

    assert response.status_code == 302
    signed = client.get(FIRE).get_data(as_text=True)
    assert "签字人 Admin · 2026-04-01 10:00" in signed and "防火门已报修" in signed
    assert "<textarea" not in signed


def test_the_water_report_shows_the_test_report_and_a_quarter_without_one_says_so(
    client: FlaskClient, auth: Auth, water: WaterQuarter
) -> None:
    auth.login("admin")

    page = client.get(WATER).get_data(as_text=True)
    assert "饮用水卫生季度报告" in page and "清泉桶装水厂" in page and "2026-06-30" in page
    assert "本季度没有水质检测报告" not in page
    assert "二楼饮水机" in page and "换用合格供应商的桶装水" in page
    for record_id in set(re.findall(r'href="/records/(\d+)"', page)):
        assert client.get(f"/records/{record_id}").status_code == 200
    later = client.get("/reports/S1/drinking-water/quarterly/2026-04-01").get_data(as_text=True)
    assert "本季度没有水质检测报告。" in later


def test_the_fire_record_prints_and_downloads_with_its_lines_and_signature_lines(
    client: FlaskClient, auth: Auth, fire: FireMonth
) -> None:
    auth.login("admin")
    page = client.get(FIRE).get_data(as_text=True)
    assert f'href="{FIRE}/print"' in page and f'href="{FIRE}/pdf"' in page

    printed = client.get(f"{FIRE}/print").get_data(as_text=True)
    assert "<nav" not in printed and "草稿" in printed and "公安部令第61号" in printed
    assert "实验小学 · 每月防火检查记录 · 2026-03-01 至 2026-03-31" in printed
    assert "清走楼梯间堆放的桌椅" in printed

    client.post(
        FIRE, data={"csrf_token": csrf_token(page), "notes": "", "do": "sign", "confirm": "yes"}
    )
    response = client.get(f"{FIRE}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = extract_text(io.BytesIO(response.data))
    assert "每月防火检查记录" in text and "公安部令第61号" in text and "60号" not in text
    assert "2026-03-04" in text and "清走楼梯间堆放的桌椅" in re.sub(r"\s", "", text)
    for line in ("填表人：", "消防安全管理人：", "校长：Admin · 2026-04-01 10:00"):
        assert line in text
    assert "草稿" not in text


def test_the_water_report_prints_its_test_reports_and_the_heads_line(
    client: FlaskClient, auth: Auth, water: WaterQuarter
) -> None:
    auth.login("admin")

    text = extract_text(io.BytesIO(client.get(f"{WATER}/pdf").data))

    assert "饮用水卫生季度报告" in text and "清泉桶装水厂" in text and "二楼饮水机" in text
    assert "填表人：" in text and "校长：" in text and "草稿" in text
    assert client.get("/reports/S1/drinking-water/monthly/2026-01-01/pdf").status_code == 404


def test_the_list_shows_every_family_of_reports(
    client: FlaskClient, auth: Auth, water: WaterQuarter
) -> None:
    auth.login("admin")

    listed = client.get("/reports/S1/food-safety?month=2026-03").get_data(as_text=True)

    assert f'<a href="{FIRE}">每月防火检查记录 2026-03-01 至 2026-03-31</a>' in listed
    assert f'<a href="{WATER}">饮用水卫生季度报告 2026-01-01 至 2026-03-31</a>' in listed
    # No canteen: its reports are listed as not owed.
    assert "无需提交" in listed


def test_the_district_reads_every_schools_signatures_and_a_school_only_its_own(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, fire: FireMonth
) -> None:
    other = make_school(session, "S2", "第二小学", district=fire.school.district)
    make_asset(session, clock, other, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    make_person(session, clock, other, Role.SCHOOL_ADMIN, "stranger")
    make_district_admin(session, clock, fire.school)
    elsewhere = make_school(session, "T1", "外区小学")
    make_asset(session, clock, elsewhere, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    session.commit()

    auth.login("district")
    page = client.get("/reports/status?month=2026-03").get_data(as_text=True)
    assert "实验小学" in page and "第二小学" in page and "外区小学" not in page
    assert f'<a href="{FIRE}">' in page
    assert 'data-label="防火检查记录"' in page and "@media (max-width:760px)" in page

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    auth.login("stranger")
    own = client.get("/reports/status?month=2026-03").get_data(as_text=True)
    assert "第二小学" in own and "实验小学" not in own
    assert client.get(FIRE).status_code == 404
