"""Lists that grow page, say how many rows there are, keep their filters from page to page,
and name the school on each row when the reader sees more than one."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.actions import report_problem
from models.assets import AssetKind
from models.clock import SettableClock
from models.notifications import Severity, notify
from models.paging import PAGE_SIZE
from models.people import Role
from models.photos import PhotoStore
from models.sweep import sweep
from tests.conftest import Auth
from tests.factories import make_asset, make_person, make_school

ROW = re.compile(r"<li>")


def _rows(html: str) -> int:
    """Rows of the list on the page (each a <li> without a class)."""
    return len(ROW.findall(html))


def _page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_task_list_pages_with_a_total_and_keeps_its_filter(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "SY01")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    for n in range(25):
        make_asset(session, clock, school, code=f"MHQ-{n:03}", name=f"{n}号灭火器")
    sweep(session, now=clock.now())
    session.commit()
    auth.login("admin")

    first = _page(client, "/tasks?all=1")
    assert "共 50 条" in first and "第 1/3 页" in first
    assert _rows(first) == PAGE_SIZE
    assert 'href="/tasks?all=1&amp;page=2"' in first
    last = _page(client, "/tasks?all=1&page=3")
    assert _rows(last) == 10
    assert 'href="/tasks?all=1&amp;page=2"' in last and "page=4" not in last
    # A page past the end shows the last one; junk shows the first.
    assert _rows(_page(client, "/tasks?all=1&page=99")) == 10
    assert "第 1/3 页" in _page(client, "/tasks?all=1&page=abc")
    # Query arguments named like the view's own, or like url_for's, are only carried along.
    crafted = _page(client, "/tasks?all=1&endpoint=x&_external=1&page=2")
    assert 'href="/tasks?all=1&amp;endpoint=x&amp;_external=1&amp;page=3"' in crafted


def test_district_lists_name_the_school_on_each_row(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    first = make_school(session, "SY01", "实验小学")
    second = make_school(session, "SY02", "第二小学", district=first.district)
    district = make_person(session, clock, first, Role.DISTRICT_ADMIN, "district")
    for school in (first, second):
        asset = make_asset(session, clock, school, code=f"{school.code}-MHQ")
        report_problem(
            session,
            district,
            asset,
            description="压力不足",
            photos=[],
            store=store,
            now=clock.now(),
        )
    sweep(session, now=clock.now())
    session.commit()
    auth.login("district")

    tasks = _page(client, "/tasks?all=1")
    actions = _page(client, "/actions?all=1")

    for page in (tasks, actions):
        assert "实验小学" in page and "第二小学" in page
    assert "共 2 条" in actions


def test_the_asset_list_finds_by_code_or_name_and_pages_keep_the_search(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "SY01")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    for n in range(30):
        make_asset(session, clock, school, code=f"MHQ-{n:03}", name=f"教学楼{n}号灭火器")
    make_asset(session, clock, school, AssetKind.WATER_DISPENSER, "YSJ-001", "食堂饮水机")
    session.commit()
    auth.login("admin")

    everything = _page(client, "/admin/SY01/assets")
    by_code = _page(client, "/admin/SY01/assets?q=mhq-02")
    by_name = _page(client, "/admin/SY01/assets?q=食堂")
    paged = _page(client, "/admin/SY01/assets?kind=extinguisher&q=灭火器&page=2")
    nothing = _page(client, "/admin/SY01/assets?q=100%25")

    assert "共 31 条" in everything
    assert "共 10 条" in by_code and "MHQ-020" in by_code and "MHQ-019" not in by_code
    assert "共 1 条" in by_name and "YSJ-001" in by_name
    assert "共 30 条" in paged and "MHQ-020" in paged and "MHQ-019" not in paged
    assert 'value="灭火器"' in paged
    assert "kind=extinguisher&amp;q=%E7%81%AD%E7%81%AB%E5%99%A8&amp;page=1" in paged
    assert "共 0 条" in nothing and "没有符合“100%”的资产。" in nothing
    places = _page(client, "/admin/SY01/locations")
    assert "共 31 条" in places and 'href="/admin/SY01/locations?page=2"' in places


def test_the_inbox_and_the_people_list_page(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "SY01")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    for n in range(24):
        make_person(session, clock, school, Role.INSPECTOR, f"staff{n:02}")
        notify(
            session,
            [admin],
            message="Due now: %(tasks)s",
            params={"tasks": f"{n}"},
            severity=Severity.INFO,
            dedup_key=f"test:{n}",
            now=clock.now(),
            link="/tasks",
        )
    session.commit()
    auth.login("admin")

    inbox = _page(client, "/inbox?page=2")
    people = _page(client, "/admin/SY01/people")

    assert "共 24 条" in inbox and "第 2/2 页" in inbox
    assert "共 25 条" in people and 'href="/admin/SY01/people?page=2"' in people
