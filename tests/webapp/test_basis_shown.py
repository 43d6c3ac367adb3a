"""Each checklist's rule and statutory minimum, where an inspector reads the records: one line
under the form's title, above the ledger on screen, on each printed and Excel ledger section,
and on the statutory report's print page."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.checklists import base_template, save_template_version
from models.clock import SettableClock
from models.people import Person, Role
from tests.conftest import Auth
from tests.factories import file_check, make_asset, make_person, make_school

BASIS = {
    "zh_CN": "《消防器材维护规定》第五条",
    "en": "Fire equipment maintenance rule, art. 5",
}
LINE = "依据：《消防器材维护规定》第五条。法定最低频次：每月。"
MARCH = "period=month&on=2026-03-02"


@pytest.fixture
def token(app: Flask, session: Session, clock: SettableClock) -> str:
    """S1's extinguisher, checked once, under a checklist that names its rule."""
    template = base_template(session, "extinguisher_monthly")
    assert template is not None
    spec = replace(template.spec, basis=BASIS, minimum_frequency="monthly")
    save_template_version(session, spec, now=clock.now())
    school = make_school(session, "S1")
    inspector = make_person(session, clock, school)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    asset = make_asset(session, clock, school)
    file_check(session, clock, app.extensions["houqin.photos"], inspector, asset, "basis-0001")
    session.commit()
    return asset.current_label.token


def test_the_form_names_its_rule_in_one_line_under_the_title(
    client: FlaskClient, auth: Auth, token: str
) -> None:
    auth.login("inspector")

    page = client.get(f"/s/{token}/record/extinguisher_monthly").get_data(as_text=True)

    after_title = page.split("</h1>")[1]
    assert (
        f'<details class="basis"><summary>{LINE}</summary></details>'
        in after_title.split("<form")[0]
    )


def test_the_form_in_english_names_the_rule_in_english(
    client: FlaskClient, auth: Auth, session: Session, token: str
) -> None:
    reader = session.scalars(select(Person).where(Person.username == "inspector")).one()
    reader.locale = "en"
    session.commit()
    auth.login("inspector")

    page = client.get(f"/s/{token}/record/extinguisher_monthly").get_data(as_text=True)

    assert "Basis: Fire equipment maintenance rule, art. 5. Statutory minimum: every month." in page


def test_the_ledger_on_screen_in_print_and_in_excel_names_the_rule(
    client: FlaskClient, auth: Auth, token: str
) -> None:
    auth.login("admin")

    screen = client.get(f"/ledger/S1?{MARCH}").get_data(as_text=True)
    printed = client.get(f"/ledger/S1/print?{MARCH}").get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(client.get(f"/ledger/S1/excel?{MARCH}").data)).active

    assert LINE in screen.split('id="bases"')[1].split("</ul>")[0]
    assert f'<p class="basis">{LINE}</p>' in printed
    assert sheet is not None and sheet["A1"].value.endswith(LINE)


def test_the_fire_reports_print_page_names_each_checklists_rule(
    client: FlaskClient, auth: Auth, token: str
) -> None:
    auth.login("admin")

    page = client.get("/reports/S1/fire-safety/monthly/2026-03-01/print").get_data(as_text=True)

    bases = page.split('<ul class="bases">')[1].split("</ul>")[0]
    assert f"灭火器月度检查：{LINE}" in bases
