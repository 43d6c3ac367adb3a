"""A district's logistics officer writes and edits checklists in a form, without TOML."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from models.clock import SettableClock
from models.people import Role
from tests.conftest import Auth, csrf_token
from tests.factories import (
    EXTINGUISHER_OK,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    stored_versions,
    template_for,
)
from tests.webapp.helpers import form_values, submit_form


def _district(session: Session, clock: SettableClock, auth: Auth) -> int:
    """A district administrator logged in; their district's id."""
    school = make_school(session)
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")
    return school.district_id


def _press(client: FlaskClient, url: str, page: str, action: str, **changes: str) -> TestResponse:
    """Send the form as the page shows it, with some fields changed, by pressing one button."""
    pairs = [(name, changes.pop(name, value)) for name, value in form_values(page)]
    return client.post(url, data=MultiDict([*pairs, *changes.items(), ("action", action)]))


def _labels(page: str) -> list[str]:
    return re.findall(r'name="items-\d+-label_zh" value="([^"]*)"', page)


def test_a_new_checklist_is_written_in_the_form_and_saved_as_version_1(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    district_id = _district(session, clock, auth)
    url = "/checklists/new/form"
    page = client.get(url).get_data(as_text=True)
    assert "高级（TOML）" in page

    added = _press(client, url, page, "add_item", title_zh="饭堂地面检查", title_en="Floor check")
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    assert 'name="items-1-key" value="item_2"' in page
    typed = _press(client, url, page, "refresh", **{"items-1-type": "number"})
    page = typed.get_data(as_text=True)
    assert 'name="items-1-unit_zh"' in page and 'name="items-0-unit_zh"' not in page
    saved = _press(
        client,
        url,
        page,
        "save",
        kind="canteen",
        **{
            "items-0-label_zh": "地面无积水",
            "items-0-label_en": "Floor dry",
            "items-0-fail_zh": "地面有积水",
            "items-0-fail_en": "Water on the floor",
            "items-1-label_zh": "温度",
            "items-1-label_en": "Temperature",
            "items-1-unit_zh": "℃",
            "items-1-unit_en": "°C",
            "items-1-max": "40",
        },
    )

    assert saved.status_code == 302
    shown = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "已保存为版本 1。" in shown and "饭堂地面检查" in shown
    session.rollback()
    spec = template_for(session, "own_1", district_id).spec
    assert spec.kind == "canteen"
    assert [i.key for i in spec.items] == ["item_1", "item_2"]
    assert spec.item("item_2").max == 40 and spec.item("item_2").unit_text("en") == "°C"


def test_items_move_up_and_down_and_are_removed_with_the_forms_buttons(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock, auth)
    url = "/checklists/extinguisher_monthly/form"
    page = client.get(url).get_data(as_text=True)
    first, second = _labels(page)[:2]

    page = _press(client, url, page, "down:0").get_data(as_text=True)
    assert _labels(page)[:2] == [second, first]
    page = _press(client, url, page, "up:1").get_data(as_text=True)
    assert _labels(page)[:2] == [first, second]
    count = len(_labels(page))
    page = _press(client, url, page, "remove:0").get_data(as_text=True)
    assert _labels(page)[0] == second and len(_labels(page)) == count - 1
    page = _press(client, url, page, "add_item").get_data(as_text=True)
    assert len(_labels(page)) == count
    session.rollback()
    assert stored_versions(session, "extinguisher_monthly") == [1]  # nothing saved yet


def test_a_choice_gets_answers_added_and_removed(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock, auth)
    url = "/checklists/new/form"
    page = client.get(url).get_data(as_text=True)
    page = _press(client, url, page, "refresh", **{"items-0-type": "single_choice"})
    page = page.get_data(as_text=True)
    assert "添加选项" in page
    for _ in range(3):
        page = _press(client, url, page, "add_option:0").get_data(as_text=True)
    page = _press(client, url, page, "remove_option:0:1").get_data(as_text=True)

    values = re.findall(r'name="items-0-options-\d+-value" value="([^"]*)"', page)
    assert values == ["option_1", "option_3"]


def test_a_mistake_is_shown_next_to_its_field_in_chinese(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock, auth)
    url = "/checklists/extinguisher_monthly/form"
    page = client.get(url).get_data(as_text=True)

    refused = _press(client, url, page, "save", **{"items-0-fail_zh": "", "items-0-fail_en": ""})

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    field = page.split('id="f-items-0-fail_label"')[1].split("</fieldset>")[0]
    assert "请写明不合格时的说法" in field and 'role="alert"' in field
    assert 'value="压力表指针在绿区"' in page  # the rest of the draft is kept
    session.rollback()
    assert stored_versions(session, "extinguisher_monthly") == [1]


def test_a_word_for_a_number_is_refused_next_to_it_in_english(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock, auth)
    client.set_cookie("houqin_lang", "en")
    url = "/checklists/new/form"
    page = client.get(url).get_data(as_text=True)
    page = _press(client, url, page, "refresh", **{"items-0-type": "number"})

    refused = _press(
        client,
        url,
        page.get_data(as_text=True),
        "save",
        title_zh="温度",
        title_en="Temperature",
        **{"items-0-label_zh": "水温", "items-0-label_en": "Water", "items-0-min": "cold"},
    )

    assert refused.status_code == 422
    field = refused.get_data(as_text=True).split('id="f-items-0-min"')[1].split("</fieldset>")[0]
    assert "must be a number, e.g. 4 or 2.5" in field and "：" not in field


def test_editing_in_the_form_makes_the_next_version_and_old_records_keep_theirs(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    asset = make_asset(session, clock, school)
    session.commit()
    auth.login("district")
    filed = submit_form(
        client,
        asset.current_label.token,
        "extinguisher_monthly",
        EXTINGUISHER_OK,
        {"photo": jpeg_bytes()},
    )
    record_url = filed.headers["Location"].split("?")[0]
    url = "/checklists/extinguisher_monthly/form"
    page = client.get(url).get_data(as_text=True)

    unchanged = _press(client, url, page, "save")
    assert "已保存为版本 1。" in client.get(unchanged.headers["Location"]).get_data(as_text=True)
    saved = _press(client, url, page, "save", title_zh="灭火器检查（新）", key="hijacked")

    assert "已保存为版本 2。" in client.get(saved.headers["Location"]).get_data(as_text=True)
    session.rollback()
    latest = template_for(session, "extinguisher_monthly", school.district_id)
    assert latest.version == 2 and latest.spec.title_text("zh_CN") == "灭火器检查（新）"
    assert stored_versions(session, "hijacked") == []
    assert "灭火器检查（新）" not in client.get(record_url).get_data(as_text=True)


def test_only_a_district_administrator_opens_the_form(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    session.commit()
    auth.login("admin")
    token = csrf_token(client.get("/checklists").get_data(as_text=True))
    assert client.get("/checklists/new/form").status_code == 404
    assert client.get("/checklists/bus_trip/form").status_code == 404
    forbidden = client.post(
        "/checklists/bus_trip/form", data={"csrf_token": token, "action": "save"}
    )
    assert forbidden.status_code == 404


def test_a_save_without_the_forms_token_saves_nothing(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock, auth)
    page = client.get("/checklists/bus_trip/form").get_data(as_text=True)
    pairs = [(n, "校车（无令牌）" if n == "title_zh" else v) for n, v in form_values(page)]
    without_token = [(n, v) for n, v in pairs if n != "csrf_token"]
    refused = client.post(
        "/checklists/bus_trip/form", data=MultiDict([*without_token, ("action", "save")])
    )

    assert refused.status_code == 400
    assert "本次未保存任何内容" in refused.get_data(as_text=True)
    session.rollback()
    assert stored_versions(session, "bus_trip") == [1]


def test_another_district_builds_from_the_built_in_version_and_cannot_open_the_firsts_own(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock, auth)
    url = "/checklists/extinguisher_monthly/form"
    edited = _press(
        client, url, client.get(url).get_data(as_text=True), "save", title_zh="本区灭火器检查"
    )
    new = client.get("/checklists/new/form").get_data(as_text=True)
    own = {"items-0-label_zh": "门", "items-0-label_en": "Door"}
    own |= {"items-0-fail_zh": "门坏了", "items-0-fail_en": "Door broken"}
    made = _press(
        client, "/checklists/new/form", new, "save", title_zh="本区自定", title_en="Own", **own
    )
    assert edited.status_code == made.status_code == 302
    theirs = make_school(session, "S2")
    make_person(session, clock, theirs, Role.DISTRICT_ADMIN, "theirs")
    session.commit()
    client = app.test_client()
    Auth(client).login("theirs")

    page = client.get(url).get_data(as_text=True)
    offered = client.get("/checklists/new/form").get_data(as_text=True)

    assert "本区灭火器检查" not in page and 'value="灭火器月度检查"' in page
    assert client.get("/checklists/own_1/form").status_code == 404
    assert 'name="key" value="own_1"' in offered and "本区自定" not in offered
