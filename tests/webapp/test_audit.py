"""The audit log page: a district's administrators read who did what, when and from where;
nobody else sees it, and no district sees another's."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.audit import audit
from models.clock import SettableClock
from models.duties import DutyFields, add_calendar_entry, add_duty, update_duty
from models.org import School
from models.people import Person, Role
from models.recurrence import Frequency, Rule
from models.robot_groups import WECOM_ROBOT, add_group
from models.staff import set_login_active
from tests.conftest import Auth, csrf_token
from tests.factories import make_district_admin, make_person, make_school

LOG = "/districts/D-S1/audit"


@pytest.fixture
def school(session: Session, clock: SettableClock, client: FlaskClient) -> School:
    school = make_school(session)
    make_district_admin(session, clock, school)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    make_person(session, clock, school, Role.TEACHER, "teacher")
    session.commit()
    client.set_cookie("houqin_lang", "en")
    return school


def _entries(html: str) -> str:
    """The log's lines, without the filter form (which names every action)."""
    return html[html.index('<ul class="plain audit">') :]


def _person(session: Session, username: str) -> Person:
    person = session.scalar(select(Person).where(Person.username == username))
    assert person is not None
    return person


def test_a_district_admin_reads_a_change_made_on_the_web_with_who_when_and_where(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    teacher = _person(session, "teacher")
    session.commit()
    auth.login("district")
    here = f"/admin/S1/people/{teacher.id}"
    page = client.get(here).get_data(as_text=True)
    client.post(here, data={"csrf_token": csrf_token(page), "do": "deactivate"})

    log = client.get(LOG)

    html = log.get_data(as_text=True)
    assert log.status_code == 200
    # Newest first: the switch-off, then the sign-in it followed.
    assert html.index("Login switched off") < html.index("Signed in")
    assert "Teacher" in html and "District" in html
    assert "2026-03-02 08:30:00" in html  # the district's time (Shanghai), not UTC
    assert "Web · 127.0.0.1" in html
    assert "Login on: Yes → No" in html


def test_a_wrong_password_shows_the_login_tried(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={"csrf_token": csrf_token(page), "login": "teacher", "password": "not-it-at-all"},
    )
    auth.login("district")

    html = _entries(client.get(LOG + "?action=login.failed").get_data(as_text=True))

    assert "Sign-in refused" in html and "Login tried: — → teacher" in html
    assert "not-it-at-all" not in html
    assert "Signed in" not in html  # filtered to refused sign-ins


@pytest.mark.parametrize("login", ["head", "teacher", "stranger"])
def test_only_the_districts_own_administrators_see_its_log(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    school: School,
    login: str,
) -> None:
    make_district_admin(session, clock, make_school(session, "T1", "另一区小学"), "stranger")
    session.commit()
    auth.login(login)

    assert client.get(LOG).status_code == 404


def test_codes_and_secrets_in_an_entry_read_as_words(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    district = _person(session, "district")
    audit(
        session,
        district,
        "supplier.edited",
        school.district,
        {"categories": ["rice"], "approved": True},
        {"categories": ["rice", "oil"], "approved": False},
        now=clock.now(),
    )
    audit(
        session,
        district,
        "score.changed",
        school.district,
        {"weight_on_time": 60},
        {"weight_on_time": 50},
        now=clock.now(),
    )
    audit(
        session,
        district,
        "group.added",
        school.district,
        {},
        {"signing_secret": "SEC-abc"},
        now=clock.now(),
    )
    session.commit()
    auth.login("district")

    html = _entries(client.get(LOG).get_data(as_text=True))

    assert "Approved for: Rice → Rice, Cooking oil" in html and "Approved: Yes → No" in html
    assert "Duties done on time: 60 → 50" in html
    assert "Signing secret (DingTalk): — → changed" in html and "SEC-abc" not in html


def test_a_schedule_switched_off_reads_as_its_schedule_not_a_login(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    district = _person(session, "district")
    daily = Rule(Frequency.DAILY, time(9, 0))
    duty = add_duty(
        session,
        district,
        template_key="water_dispenser_disinfection",
        fields=DutyFields(daily, 60, 24 * 60, 72 * 60),
        now=clock.now(),
        school=school,
    )
    off = DutyFields(daily, 60, 24 * 60, 72 * 60, active=False)
    update_duty(session, district, duty, off, now=clock.now())
    session.commit()
    auth.login("district")

    html = _entries(client.get(LOG + "?action=schedule.changed").get_data(as_text=True))

    assert "Schedule on: — → Yes" in html and "Schedule on: Yes → No" in html
    assert "Login on" not in html
    client.set_cookie("houqin_lang", "zh_CN")
    html = _entries(client.get(LOG + "?action=schedule.changed").get_data(as_text=True))
    assert "计划已启用：— → 是" in html and "计划已启用：是 → 否" in html


def test_a_calendar_entry_reads_as_a_holiday_not_a_code(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    district = _person(session, "district")
    day = date(2026, 10, 1)
    entry = dict(kind="holiday", starts_on=day, ends_on=day, name="国庆节")
    add_calendar_entry(session, district, school.district_id, **entry, now=clock.now())
    session.commit()
    auth.login("district")

    html = _entries(client.get(LOG + "?action=calendar.changed").get_data(as_text=True))
    assert "Kind: — → Holiday" in html and "holiday" not in html
    client.set_cookie("houqin_lang", "zh_CN")
    html = _entries(client.get(LOG + "?action=calendar.changed").get_data(as_text=True))
    assert "类别：— → 假期" in html


def _log_in_chinese(client: FlaskClient, auth: Auth) -> str:
    client.set_cookie("houqin_lang", "zh_CN")
    auth.login("district")
    return _entries(client.get(LOG).get_data(as_text=True))


def test_a_login_switched_off_reads_as_the_login_in_chinese_too(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    district, teacher = _person(session, "district"), _person(session, "teacher")
    set_login_active(session, district, teacher, active=False, now=clock.now())
    session.commit()

    html = _log_in_chinese(client, auth)

    assert "停用登录" in html and "已启用：是 → 否" in html


def _wecom_group(session: Session, clock: SettableClock, school: School) -> None:
    add_group(
        session,
        _person(session, "district"),
        channel=WECOM_ROBOT,
        district=school.district,
        school=school,
        role=Role.CANTEEN_STAFF,
        label="食堂群",
        address="abcd-webhook-key-1234",
        signing_secret=None,
        min_severity="critical",
        now=clock.now(),
    )
    session.commit()


def test_a_notice_groups_channel_and_severity_read_as_words(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    _wecom_group(session, clock, school)
    auth.login("district")

    html = _entries(client.get(LOG).get_data(as_text=True))

    assert "Notice group added" in html and "Group name: — → 食堂群" in html
    assert "Channel: — → WeCom group robot" in html
    assert "Notices from: — → Critical" in html
    assert "wecom_robot" not in html and "critical" not in html


def test_a_notice_groups_channel_and_severity_read_as_words_in_chinese(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    _wecom_group(session, clock, school)

    html = _log_in_chinese(client, auth)

    assert "新增通知群" in html and "渠道：— → 企业微信群机器人" in html
    assert "通知级别起点：— → 严重" in html
    assert "wecom_robot" not in html and "critical" not in html


def test_another_districts_entries_are_not_shown(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    stranger = make_district_admin(session, clock, make_school(session, "T1", "另一区小学"), "x")
    clock.advance(timedelta(minutes=5))
    audit(session, stranger, "person.unlocked", stranger, now=clock.now())
    session.commit()
    auth.login("district")

    html = _entries(client.get(LOG).get_data(as_text=True))
    other = client.get("/districts/D-T1/audit")

    assert "Signed in" in html and "Login unlocked" not in html
    assert other.status_code == 404


def test_the_log_is_filtered_by_person_and_date(
    app: Flask, client: FlaskClient, auth: Auth, school: School
) -> None:
    Auth(app.test_client()).login("head")
    auth.login("district")

    by_head = client.get(LOG + "?person=head").get_data(as_text=True)
    nobody = client.get(LOG + "?person=no-such-login").get_data(as_text=True)
    later = client.get(LOG + "?from=2026-03-03").get_data(as_text=True)

    assert "1 in all" in by_head and "Head" in by_head
    assert "Nothing logged matches." in nobody
    assert "Nothing logged matches." in later


def test_the_admin_home_links_district_admins_to_the_log(
    app: Flask, client: FlaskClient, auth: Auth, school: School
) -> None:
    head = app.test_client()
    Auth(head).login("head")
    auth.login("district")

    assert LOG in client.get("/admin/S1").get_data(as_text=True)
    assert LOG not in head.get("/admin/S1").get_data(as_text=True)
