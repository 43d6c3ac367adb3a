"""Scanning a label without an account: the asset's name, 报告问题, and a reference to quote."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from models.actions import CorrectiveAction
from models.assets import issue_label
from models.clock import SettableClock
from models.notifications import Notification
from models.people import Role
from models.photos import Photo
from models.records import Channel, Upload, submit_record
from models.retirement import retire_asset
from tests.conftest import Auth, csrf_token
from tests.factories import (
    EXTINGUISHER_OK,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    template_for,
)

REFERENCE_RE = re.compile(r'<p id="reference"[^>]*>([A-Z0-9]{8})</p>')


def _setup(session: Session, clock: SettableClock):
    school = make_school(session)
    keeper = make_person(session, clock, school, Role.INSPECTOR, "keeper", phone="13900000001")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    asset = make_asset(session, clock, school, responsible=keeper)
    session.commit()
    return school, keeper, admin, asset, asset.current_label.token


def _count(session: Session, model: type) -> int:
    session.rollback()
    count = session.scalar(select(func.count()).select_from(model)) or 0
    session.rollback()
    return count


def _phone(app: Flask, address: str = "203.0.113.7", lang: str = "") -> FlaskClient:
    """A stranger's phone, not logged in, at a client address of its own."""
    phone = app.test_client()
    phone.environ_base["REMOTE_ADDR"] = address
    if lang:
        phone.set_cookie("houqin_lang", lang)
    return phone


def _send(
    phone: FlaskClient,
    token: str,
    description: str = "灭火器压力表指针在红区",
    photo: bytes | None = None,
    csrf: str | None = None,
) -> TestResponse:
    if csrf is None:
        csrf = csrf_token(phone.get(f"/s/{token}/report").get_data(as_text=True))
    data: dict[str, object] = {"description": description}
    if csrf:
        data["csrf_token"] = csrf
    if photo is not None:
        data["photo"] = FileStorage(io.BytesIO(photo), "IMG_0001.jpg", content_type="image/jpeg")
    boundary, body = encode_multipart(data)
    return phone.post(
        f"/s/{token}/report", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_a_stranger_sees_the_name_a_login_and_report_a_problem_and_nothing_private(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    _, keeper, _, asset, token = _setup(session, clock)
    submit_record(
        session,
        actor=keeper,
        asset=asset,
        template=template_for(session, "extinguisher_monthly"),
        answers=EXTINGUISHER_OK,
        uploads=[Upload("photo", jpeg_bytes())],
        key="k" * 32,
        channel=Channel.WEB,
        clock=clock,
        store=app.extensions["houqin.photos"],
    )
    session.commit()

    response = _phone(app).get(f"/s/{token}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert asset.name in page and "实验小学" in page
    assert "报告问题" in page and f'href="/s/{token}/report"' in page
    assert "/login?next=" in page
    for private in ("Keeper", "13900000001", "MHQ-001", "教学楼", "最近记录", "台账", "/records/"):
        assert private not in page


def test_a_report_opens_an_action_tells_the_responsible_person_and_shows_a_reference(
    app: Flask, auth: Auth, client: FlaskClient, session: Session, clock: SettableClock
) -> None:
    _, keeper, *_, token = _setup(session, clock)
    phone = _phone(app)

    sent = _send(phone, token, photo=jpeg_bytes())

    assert sent.status_code == 302
    done = phone.get(sent.headers["Location"]).get_data(as_text=True)
    assert "谢谢！已通知负责人。" in done
    match = REFERENCE_RE.search(done)
    assert match is not None
    reference = match.group(1)
    session.rollback()
    action = session.scalars(select(CorrectiveAction)).one()
    assert action.assignee_id == keeper.id
    assert str(action.id) != reference
    assert _count(session, Photo) == 1
    notice = session.scalars(select(Notification)).one()
    assert notice.recipient_id == keeper.id and reference in notice.text
    session.rollback()

    # The administrator sees it marked 匿名报告, with the reference the reporter was given.
    auth.login("admin")
    listed = client.get("/actions?all=1").get_data(as_text=True)
    assert "匿名报告" in listed and reference in listed
    shown = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "匿名报告" in shown and f"编号：{reference}" in shown
    assert "灭火器压力表指针在红区" in shown


def test_in_english_the_page_the_form_and_its_refusals_are_english(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    *_, token = _setup(session, clock)
    phone = _phone(app, lang="en")

    assert "Report a problem" in phone.get(f"/s/{token}").get_data(as_text=True)
    refused = _send(phone, token, description="  ")
    assert refused.status_code == 422
    assert "Say what is wrong." in refused.get_data(as_text=True)
    sent = _send(phone, token)
    done = phone.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Your reference number" in done


def test_bad_input_is_refused_next_to_its_field_and_nothing_is_opened(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    *_, token = _setup(session, clock)
    phone = _phone(app)

    empty = _send(phone, token, description="")
    assert empty.status_code == 422
    assert 'id="description-error">请说明出了什么问题。' in empty.get_data(as_text=True)

    long = _send(phone, token, description="坏" * 1001)
    assert long.status_code == 422
    assert "最多 1000 个字。" in long.get_data(as_text=True)

    not_a_photo = _send(phone, token, photo=b"%PDF-1.4 not a photo")
    assert not_a_photo.status_code == 422
    page = not_a_photo.get_data(as_text=True)
    assert 'id="photo-error">该文件不是可识别的照片。' in page
    assert "灭火器压力表指针在红区" in page  # what was written is kept

    too_big = _send(phone, token, photo=b"\xff" * (20 * 1024 * 1024 + 1))
    assert too_big.status_code == 422
    assert "20 MB" in too_big.get_data(as_text=True)
    assert _count(session, CorrectiveAction) == 0


def test_a_report_without_its_csrf_token_is_refused(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    *_, token = _setup(session, clock)

    refused = _send(_phone(app), token, csrf="")

    assert refused.status_code == 400
    assert _count(session, CorrectiveAction) == 0


def test_five_reports_per_label_an_hour_then_it_waits(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    *_, token = _setup(session, clock)
    for n in range(5):
        assert _send(_phone(app, f"198.51.100.{n}"), token).status_code == 302
        clock.advance(timedelta(minutes=5))

    refused = _send(_phone(app, "192.0.2.50"), token)

    assert refused.status_code == 429
    assert "过去一小时内这个标签已收到多次报告" in refused.get_data(as_text=True)
    assert _count(session, CorrectiveAction) == 5
    clock.advance(timedelta(minutes=36))
    assert _send(_phone(app, "192.0.2.50"), token).status_code == 302


def test_ten_reports_per_address_a_day_then_that_phone_waits(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    school, keeper, *_ = _setup(session, clock)
    tokens = [
        make_asset(
            session, clock, school, code=f"MHQ-2{n:02}", responsible=keeper
        ).current_label.token
        for n in range(11)
    ]
    session.commit()
    phone = _phone(app)
    for token in tokens[:10]:
        assert _send(phone, token).status_code == 302

    refused = _send(phone, tokens[10], photo=jpeg_bytes())

    assert refused.status_code == 429
    assert "今天从您的网络提交的报告过多，请明天再试。" in refused.get_data(as_text=True)
    assert _count(session, Photo) == 0  # refused before the photo was kept
    assert _send(_phone(app, "192.0.2.1"), tokens[10]).status_code == 302
    clock.advance(timedelta(days=1))
    assert _send(phone, tokens[10]).status_code == 302


def _form_fields(phone: FlaskClient, token: str) -> dict[str, object]:
    """The report form's hidden fields as the phone received them: its CSRF token and key."""
    page = phone.get(f"/s/{token}/report").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page)
    assert key, "the form carries no submission key"
    return {"csrf_token": csrf_token(page), "submission_key": key.group(1)}


def _post(phone: FlaskClient, token: str, fields: dict[str, object]) -> TestResponse:
    boundary, body = encode_multipart({"description": "水龙头漏水", **fields})
    return phone.post(
        f"/s/{token}/report", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_a_form_sent_again_on_a_weak_signal_is_the_one_report_with_its_reference(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    *_, token = _setup(session, clock)
    app.extensions["houqin.settings"].reports.public_per_label_per_hour = 1
    phone = _phone(app)
    fields = _form_fields(phone, token)

    first = _post(phone, token, fields)
    reference = REFERENCE_RE.search(phone.get(first.headers["Location"]).get_data(as_text=True))
    clock.advance(timedelta(seconds=40))
    again = _post(phone, token, fields)  # the answer was lost; the phone sends it again

    assert first.status_code == again.status_code == 302
    shown = REFERENCE_RE.search(phone.get(again.headers["Location"]).get_data(as_text=True))
    assert reference and shown and shown.group(1) == reference.group(1)
    assert _count(session, CorrectiveAction) == 1
    # The label's one report an hour was not spent twice, and a new form is a new report.
    other = _phone(app, "192.0.2.9")
    assert _post(other, token, _form_fields(other, token)).status_code == 429


def test_a_key_sent_with_another_labels_form_makes_a_report_of_its_own(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    school, keeper, *_, token = _setup(session, clock)
    other = make_asset(session, clock, school, code="MHQ-300", responsible=keeper)
    session.commit()
    phone = _phone(app)
    fields = _form_fields(phone, token)
    assert _post(phone, token, fields).status_code == 302

    elsewhere = _post(
        phone,
        other.current_label.token,
        {
            **fields,
            "csrf_token": csrf_token(
                phone.get(f"/s/{other.current_label.token}/report").get_data(as_text=True)
            ),
        },
    )

    assert elsewhere.status_code == 302
    assert _count(session, CorrectiveAction) == 2


def test_the_limits_come_from_the_config(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    *_, token = _setup(session, clock)
    app.extensions["houqin.settings"].reports.public_per_label_per_hour = 1
    assert _send(_phone(app, "198.51.100.1"), token).status_code == 302
    assert _send(_phone(app, "198.51.100.2"), token).status_code == 429


def test_a_withdrawn_label_says_so_and_takes_no_report(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    *_, asset, token = _setup(session, clock)
    phone = _phone(app)
    csrf = csrf_token(phone.get(f"/s/{token}/report").get_data(as_text=True))
    issue_label(session, asset, now=clock.now())
    session.commit()

    page = phone.get(f"/s/{token}")
    assert page.status_code == 410
    assert "此标签已停用，不能再用它报告问题。" in page.get_data(as_text=True)
    assert f'href="/s/{token}/report"' not in page.get_data(as_text=True)
    assert _send(phone, token, csrf=csrf).status_code == 410
    assert _count(session, CorrectiveAction) == 0
    assert _phone(app).get("/s/not-a-token").status_code == 404


def test_a_retired_assets_label_takes_no_report(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    _, _, admin, asset, token = _setup(session, clock)
    retire_asset(session, admin, asset, reason="报废", now=clock.now())
    session.commit()

    page = _phone(app).get(f"/s/{token}").get_data(as_text=True)

    assert "该设施已停用，不能在此报告问题。" in page
    assert f'href="/s/{token}/report"' not in page
    assert _send(_phone(app), token).status_code == 200  # the page again, nothing opened
    assert _count(session, CorrectiveAction) == 0


def test_someone_logged_in_gets_the_assets_own_page(
    auth: Auth, client: FlaskClient, session: Session, clock: SettableClock
) -> None:
    *_, token = _setup(session, clock)
    auth.login("keeper")

    assert client.get(f"/s/{token}/report").headers["Location"] == f"/s/{token}"
    assert "MHQ-001" in client.get(f"/s/{token}").get_data(as_text=True)
