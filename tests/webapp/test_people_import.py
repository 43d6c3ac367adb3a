"""Importing people: an Excel template with an example, sign-in codes instead of passwords."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from models.clock import SettableClock
from models.org import School
from models.people import Role
from tests.conftest import Auth, csrf_token
from tests.factories import make_person, make_school


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    session.commit()
    return school


def _upload(client: FlaskClient, content: bytes, filename: str) -> TestResponse:
    page = client.get("/admin/S1/import").get_data(as_text=True)
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(page),
            "kind": "people",
            "file": FileStorage(io.BytesIO(content), filename),
        }
    )
    return client.post(
        "/admin/S1/import/preview",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _confirm(client: FlaskClient, preview: str) -> TestResponse:
    fields = dict(re.findall(r'name="(kind|sha256)" type="hidden" value="([^"]*)"', preview))
    return client.post(
        "/admin/S1/import/confirm", data={"csrf_token": csrf_token(preview), **fields}
    )


def test_the_excel_template_has_an_example_row_and_the_allowed_values(
    client: FlaskClient, auth: Auth, school: School
) -> None:
    auth.login("admin")

    response = client.get("/admin/S1/import/people.xlsx")

    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet, notes = book.worksheets
    assert [c.value for c in sheet[1]] == ["用户名", "姓名", "手机", "角色", "初始密码"]
    assert [c.value for c in sheet[2]][:4] == ["zhangsan", "张三", "13800000000", "教师"]
    assert any("教师" in str(rule.formula1) for rule in sheet.data_validations.dataValidation)
    allowed = {row[0].value: row[2].value for row in notes.iter_rows(min_row=2) if row[0].value}
    assert "安全检查员" in allowed["角色"]


def test_imported_people_get_sign_in_codes_and_choose_their_own_password(
    client: FlaskClient, app: Flask, auth: Auth, school: School
) -> None:
    auth.login("admin")
    book = openpyxl.load_workbook(io.BytesIO(client.get("/admin/S1/import/people.xlsx").data))
    # The example row stays; the template's row 3 is the first real person.
    book.worksheets[0].append(["wangfang", "王芳", "13900000001", "食堂从业人员"])
    out = io.BytesIO()
    book.save(out)

    preview = _upload(client, out.getvalue(), "people.xlsx").get_data(as_text=True)
    assert "zhangsan" not in preview
    sheet = _confirm(client, preview)

    assert sheet.status_code == 200
    assert sheet.headers["Cache-Control"] == "no-store"
    html = sheet.get_data(as_text=True)
    codes = re.findall(r'<span class="code">([0-9A-Z]{8})</span>', html)
    assert len(codes) == 1
    assert "王芳" in html
    phone = app.test_client()
    page = phone.get("/login").get_data(as_text=True)
    response = phone.post(
        "/login",
        data={"csrf_token": csrf_token(page), "login": "13900000001", "password": codes[0]},
    )
    assert response.headers["Location"].startswith("/password")
