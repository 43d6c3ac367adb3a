"""The notification settings page, and the reach of a school's people for its administrators."""

from __future__ import annotations

from datetime import time

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.addresses import address_of
from models.clock import SettableClock
from models.notice_preferences import choices_of, quiet_hours_of
from models.notifications import Severity, notify
from models.outbox import claim_deliveries, mark_delivered
from models.people import Person, Role
from tests.conftest import Auth, csrf_token
from tests.factories import make_address, make_person, make_school


def _enable(
    app: Flask, *, telegram: bool = False, wecom: bool = False, email: bool = False
) -> None:
    settings = app.extensions["houqin.settings"]
    if telegram:
        settings.telegram.token = "123:abc"
    if wecom:
        settings.wecom.corp_id, settings.wecom.agent_id, settings.wecom.secret = "ww1", 1000002, "s"
    if email:
        settings.email.host, settings.email.sender = "127.0.0.1", "houqin@example.cn"


def _staff(session: Session, clock: SettableClock) -> Person:
    person = make_person(session, clock, make_school(session), Role.INSPECTOR, "staff")
    session.commit()
    return person


def test_the_footer_links_to_the_notification_settings(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _staff(session, clock)
    auth.login("staff")

    page = client.get("/inbox").get_data(as_text=True)

    assert 'href="/settings/notices">通知设置</a>' in page
    assert "绑定 Telegram</a>" not in page


def test_the_page_shows_only_the_channels_the_installation_runs(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _staff(session, clock)
    auth.login("staff")

    nothing = client.get("/settings/notices").get_data(as_text=True)
    _enable(app, telegram=True, wecom=True)
    chats = client.get("/settings/notices").get_data(as_text=True)

    assert "本区尚未设置任何聊天工具或电子邮件" in nothing
    assert 'id="channel-telegram"' not in nothing and 'name="address"' not in nothing
    assert 'id="channel-telegram"' in chats and 'href="/telegram"' in chats
    assert "请联系管理员录入您的企业微信账号" in chats
    assert 'name="address"' not in chats


def test_a_person_sets_an_email_address_what_it_gets_and_quiet_hours(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    person = _staff(session, clock)
    make_address(session, person, "wecom", "zhang.san", clock.now())
    session.commit()
    _enable(app, wecom=True, email=True)
    auth.login("staff")
    page = client.get("/settings/notices").get_data(as_text=True)
    assert "您的企业微信账号：zhang.san" in page
    token = csrf_token(page)

    client.post("/settings/notices/email", data={"csrf_token": token, "address": "Zhang@X.cn"})
    shown = client.get("/settings/notices").get_data(as_text=True)
    saved = client.post(
        "/settings/notices",
        data={
            "csrf_token": token,
            "lowest_email": "major",
            "digest_email": "y",
            "lowest_wecom": "minor",
            "quiet_starts": "22:00",
            "quiet_ends": "07:00",
        },
        follow_redirects=True,
    )

    assert 'value="Zhang@x.cn"' in shown and 'name="lowest_email"' in shown
    assert "通知设置已保存" in saved.get_data(as_text=True)
    session.expire_all()
    email, wecom = choices_of(session, person, ("email", "wecom"))
    assert (email.lowest, email.digest) == (Severity.MAJOR, True)
    assert (wecom.lowest, wecom.digest) == (Severity.MINOR, False)
    hours = quiet_hours_of(session, person)
    assert hours is not None and (hours.starts, hours.ends) == (time(22), time(7))
    session.commit()


def test_a_bad_email_address_or_time_is_refused_next_to_its_field(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    person = _staff(session, clock)
    _enable(app, email=True)
    auth.login("staff")
    token = csrf_token(client.get("/settings/notices").get_data(as_text=True))

    bad_address = client.post(
        "/settings/notices/email", data={"csrf_token": token, "address": "zhang@"}
    )
    bad_time = client.post("/settings/notices", data={"csrf_token": token, "quiet_starts": "25:00"})
    forged = client.post("/settings/notices/email", data={"address": "zhang@x.cn"})

    assert bad_address.status_code == bad_time.status_code == 422
    html = bad_address.get_data(as_text=True)
    assert 'aria-describedby="address-error"' in html and 'value="zhang@"' in html
    assert "请输入电子邮箱地址，例如 name@school.edu.cn。" in html
    assert 'id="quiet_starts-error">请输入时间，例如 22:00。' in bad_time.get_data(as_text=True)
    assert forged.status_code == 400
    session.expire_all()
    assert address_of(session, person, "email") is None
    assert quiet_hours_of(session, person) is None
    session.commit()


def test_the_reach_page_lists_last_deliveries_and_the_people_no_channel_reaches(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _enable(app, telegram=True)
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    reached = make_person(session, clock, school, Role.INSPECTOR, "reached")
    make_person(session, clock, school, Role.INSPECTOR, "nochat")
    make_address(session, reached, "telegram", "9000", clock.now())
    notify(
        session,
        [reached],
        message="Due soon: %(tasks)s",
        params={"tasks": "灭火器"},
        severity=Severity.INFO,
        dedup_key="k",
        now=clock.now(),
    )
    session.flush()
    [delivery] = claim_deliveries(session, "telegram", now=clock.now())
    mark_delivered(session, delivery.delivery_id, "1", now=clock.now())
    session.commit()
    auth.login("admin")

    home = client.get(f"/admin/{school.code}").get_data(as_text=True)
    everyone = client.get(f"/admin/{school.code}/reach").get_data(as_text=True)
    nobody = client.get(f"/admin/{school.code}/reach?only=unreached").get_data(as_text=True)

    assert f'href="/admin/{school.code}/reach"' in home
    sent = reached.local(clock.now()).strftime("%Y-%m-%d %H:%M")
    assert f"Telegram：最近送达 {sent}" in everyone
    assert "无任何渠道可达的人员（2）" in everyone
    assert "Nochat" in nobody and "Admin" in nobody and "Reached" not in nobody


def test_a_school_administrator_cannot_see_another_schools_reach(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    other = make_school(session, "S2", "第二小学", district=school.district)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, other, Role.INSPECTOR, "elsewhere")
    session.commit()
    auth.login("admin")

    response = client.get(f"/admin/{other.code}/reach")

    assert response.status_code == 404
    assert "Elsewhere" not in response.get_data(as_text=True)
