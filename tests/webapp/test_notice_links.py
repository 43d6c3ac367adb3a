"""Every link a notice carries opens a page its recipient may see: the inbox and Telegram send
people there, so a link to 页面不存在 is a notice that cannot be acted on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction, close_action, reopen_action, report_problem
from models.assets import AssetKind
from models.clock import SettableClock
from models.documents import add_document
from models.messages import SubmissionInvalid
from models.notifications import Notification
from models.people import Person, Role
from models.photos import PhotoStore, process_photo
from models.records import Channel, Upload, submit_record
from models.sweep import sweep
from models.trips import check_rear, sweep_trips
from tests.conftest import Auth
from tests.factories import (
    EXTINGUISHER_OK,
    file_pre_trip_check,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    make_supplier,
    template_for,
)
from tests.models.test_sweep import cst


def _file(session, clock, store, actor, asset, key, answers, uploads=True):
    clock.advance(timedelta(minutes=5))
    return submit_record(
        session,
        actor=actor,
        asset=asset,
        template=template_for(session, key),
        answers=answers,
        uploads=[Upload("photo", jpeg_bytes())] if uploads else [],
        key=f"{key}-{clock.now().isoformat()}",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )


def _every_kind_of_notice(session: Session, clock: SettableClock, store: PhotoStore) -> None:
    """A school's month: schedules run late, documents expire, checks fail, a bus miscounts and
    never arrives, someone reports a problem, an action is closed and reopened."""
    school = make_school(session, "SY01")
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    extinguisher = make_asset(session, clock, school, responsible=staff)
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", responsible=staff)
    supplier = make_supplier(session, clock, school)
    expires = (clock.now() + timedelta(days=20)).date()
    for holder, kind in ((staff, "health_certificate"), (bus, "driver_approval"), (None, "other")):
        add_document(
            session,
            district,
            school=school,
            holder=holder,
            kind=kind,
            title=f"{kind} 1",
            expires_on=expires,
            store=store,
            now=clock.now(),
        )
    add_document(
        session,
        district,
        school=school,
        holder=supplier,
        kind="test_report",
        title="检测报告",
        expires_on=expires,
        store=store,
        now=clock.now(),
    )
    session.flush()

    # The schedule's ladder (reminder, due, school, district), digests and expiries.
    for moment in (cst(2, 9), cst(25, 16, 30), cst(25, 17), cst(26, 17, 30), cst(28, 17, 30)):
        clock.set(moment)
        sweep(session, now=moment)
    # Down for a month: a catch-up summary.
    clock.set(cst(28, 9, month=4))
    sweep(session, now=clock.now())

    # A failed check, a miscounted bus, one that never arrives.
    failing = {**EXTINGUISHER_OK, "gauge_green": "fail"}
    _file(session, clock, store, staff, extinguisher, "extinguisher_monthly", failing)
    departure = {"teacher_on_board": "yes", "children_boarded": "18", "seatbelts_on": "yes"}
    file_pre_trip_check(session, clock, store, bus, teacher)
    _file(session, clock, store, teacher, bus, "bus_departure", departure, uploads=False)
    arrival = {"children_got_off": "17", "bus_checked_empty": "yes"}
    _file(session, clock, store, teacher, bus, "bus_arrival", arrival, uploads=False)
    check_rear(session, teacher, bus, now=clock.now())
    _file(session, clock, store, teacher, bus, "bus_departure", departure, uploads=False)
    overloaded = {**departure, "children_boarded": "25"}
    with pytest.raises(SubmissionInvalid):  # refused; the alert stays queued
        _file(session, clock, store, teacher, bus, "bus_departure", overloaded, uploads=False)
    clock.advance(timedelta(hours=3))
    sweep_trips(session, now=clock.now(), within=timedelta(hours=2))

    # A reported problem; an action closed and reopened.
    report_problem(
        session,
        teacher,
        extinguisher,
        description="喷管裂了",
        photos=[],
        store=store,
        now=clock.now(),
    )
    action = session.scalars(select(CorrectiveAction).order_by(CorrectiveAction.id)).first()
    assert action is not None
    photo = process_photo(jpeg_bytes())
    close_action(
        session, action, actor=staff, note="已更换", photo=photo, store=store, now=clock.now()
    )
    admin = session.scalar(select(Person).where(Person.username == "admin"))
    reopen_action(session, action, actor=admin, note="还是漏", now=clock.now())
    session.commit()


def test_every_link_in_every_notice_opens_a_page_its_recipient_may_see(
    app: Flask, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    _every_kind_of_notice(session, clock, store)
    notices = session.scalars(select(Notification).order_by(Notification.id)).all()
    kinds = {n.message for n in notices}
    by_recipient: dict[str, list[tuple[str | None, str]]] = {}
    for notice in notices:
        by_recipient.setdefault(notice.recipient.username, []).append((notice.link, notice.text))
    session.commit()  # the web app writes: the test's own transaction must not hold the lock

    assert len(kinds) >= 14, sorted(kinds)
    for username, theirs in by_recipient.items():
        client = app.test_client()
        Auth(client).login(username)
        for link, text in theirs:
            assert link, f"no link: {text}"
            response = client.get(link, follow_redirects=True)
            assert response.status_code == 200, (username, link, text)


def test_an_expiry_notice_opens_the_document_under_its_school(
    app: Flask, auth: Auth, client, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "SY01")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    document = add_document(
        session,
        admin,
        school=school,
        holder=None,
        kind="other",
        title="食品经营许可证",
        expires_on=(clock.now() + timedelta(days=6)).date(),
        store=store,
        now=clock.now(),
    )
    sweep(session, now=clock.now())
    session.commit()
    notice = session.scalars(select(Notification).where(Notification.recipient_id == admin.id))
    [link] = [n.link for n in notice if n.link.startswith("/registers")]
    session.commit()

    auth.login("admin")
    page = client.get(link)
    assert link == f"/registers/SY01/documents/{document.id}"
    assert page.status_code == 200
    assert "食品经营许可证" in page.get_data(as_text=True)
    # A notice queued before links named the school still finds the page.
    old = client.get(f"/registers/documents/{document.id}")
    assert old.status_code == 302
    assert old.location.endswith(f"/registers/SY01/documents/{document.id}")
