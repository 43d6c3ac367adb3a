"""District administrators edit checklists: each change a new version, old records keep theirs."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

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
from tests.webapp.helpers import submit_form
from webapp.checklists import NEW_TEMPLATE


def _edit_page(client: FlaskClient, key: str) -> tuple[str, str]:
    page = client.get(f"/checklists/{key}/edit").get_data(as_text=True)
    source = re.search(r'<textarea id="source" name="source"[^>]*>(.*?)</textarea>', page, re.S)
    return csrf_token(page), source.group(1).replace("&#34;", '"').replace("&amp;", "&")


def test_an_edited_checklist_is_a_new_version_and_old_records_still_show_as_filed(
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

    token, source = _edit_page(client, "extinguisher_monthly")
    assert 'key = "gauge_green"' in source
    changed = source.replace("Extinguisher monthly inspection", "Extinguisher check (new)")
    changed = changed.replace("灭火器月度检查", "灭火器检查（新）")
    saved = client.post(
        "/checklists/extinguisher_monthly/edit", data={"csrf_token": token, "source": changed}
    )

    assert saved.status_code == 302
    assert "版本 2" in client.get(saved.headers["Location"]).get_data(as_text=True)
    session.rollback()
    assert template_for(session, "extinguisher_monthly", school.district_id).version == 2
    old = client.get(record_url).get_data(as_text=True)
    assert "灭火器月度检查" in old and "（新）" not in old
    form = client.get(f"/s/{asset.current_label.token}/record/extinguisher_monthly")
    assert "灭火器检查（新）" in form.get_data(as_text=True)


def test_a_broken_checklist_is_refused_naming_the_item_and_field(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")
    token, source = _edit_page(client, "bus_trip")

    response = client.post(
        "/checklists/bus_trip/edit",
        data={"csrf_token": token, "source": source.replace('type = "yes_no"', 'type = "maybe"')},
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "检查表：条目 teacher_on_board.type：必须是以下之一：pass_fail、yes_no、" in page
    assert "must be one of" not in page
    session.rollback()
    assert stored_versions(session, "bus_trip") == [1]


def test_school_staff_read_checklists_but_cannot_edit_them(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.SCHOOL_ADMIN, "admin")
    session.commit()
    auth.login("admin")

    assert "灭火器月度检查" in client.get("/checklists").get_data(as_text=True)
    assert client.get("/checklists/bus_trip/edit").status_code == 404
    assert client.get("/checklists/new").status_code == 404


def test_a_checklist_error_reads_in_english_with_english_separators(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")
    client.set_cookie("houqin_lang", "en")
    token, source = _edit_page(client, "bus_trip")

    response = client.post(
        "/checklists/bus_trip/edit",
        data={"csrf_token": token, "source": source.replace('type = "yes_no"', 'type = "maybe"')},
    )

    page = response.get_data(as_text=True)
    assert "the checklist: item teacher_on_board.type: must be one of pass_fail, yes_no, " in page
    assert "：" not in page.split("must be one of")[0].split("<p class")[-1]


def test_an_edited_item_that_can_fail_must_name_its_failure(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")
    token, source = _edit_page(client, "extinguisher_monthly")
    assert 'zh_CN = "压力表指针不在绿区"' in source
    without = re.sub(r"\n\[items\.fail_label\]\n[^\[]*", "\n", source, count=1)
    without = re.sub(r"\nfail_label = \{[^}]*\}", "", without, count=1)
    assert without != source

    response = client.post(
        "/checklists/extinguisher_monthly/edit", data={"csrf_token": token, "source": without}
    )

    assert response.status_code == 422
    assert "fail_label：请写明不合格时的说法" in response.get_data(as_text=True)
    session.rollback()
    assert stored_versions(session, "extinguisher_monthly") == [1]


def test_a_new_checklist_saves_as_offered_and_says_so_in_green(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")
    page = client.get("/checklists/new").get_data(as_text=True)
    source = re.search(r'<textarea id="source" name="source"[^>]*>(.*?)</textarea>', page, re.S)
    text = source.group(1).replace("&#34;", '"').replace("&amp;", "&")

    saved = client.post("/checklists/new", data={"csrf_token": csrf_token(page), "source": text})

    shown = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert '<div class="flash-ok" role="status">已保存为版本 1。</div>' in shown


def test_a_checklist_page_says_what_each_failure_is_called(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.SCHOOL_ADMIN, "admin")
    session.commit()
    auth.login("admin")

    page = client.get("/checklists/extinguisher_monthly").get_data(as_text=True)

    assert "不合格时记为：压力表指针不在绿区" in page


@pytest.mark.parametrize(
    ("field", "said"),
    [
        ('max_length = "many"', "条目 teacher_on_board.max_length：必须是 1 到 5000 之间的整数"),
        ('required = "yes"', "条目 teacher_on_board.required：必须是 true 或 false"),
        ("min = [1, 2]", "条目 teacher_on_board.min：必须是数字"),
    ],
)
def test_a_wrongly_typed_value_is_refused_naming_its_key_and_nothing_is_saved(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, field: str, said: str
) -> None:
    make_person(session, clock, make_school(session), Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")
    token, source = _edit_page(client, "bus_trip")
    broken = source.replace('key = "teacher_on_board"', f'key = "teacher_on_board"\n{field}', 1)

    response = client.post(
        "/checklists/bus_trip/edit", data={"csrf_token": token, "source": broken}
    )

    assert response.status_code == 422
    assert said in response.get_data(as_text=True)
    session.rollback()
    assert stored_versions(session, "bus_trip") == [1]


def test_a_checklist_of_more_than_200_items_is_refused(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")
    token, source = _edit_page(client, "bus_trip")
    many = "".join(
        f'\n[[items]]\nkey = "extra_{n}"\ntype = "text"\nrequired = false\n'
        f'label = {{ zh_CN = "备注{n}", en = "Note {n}" }}\n'
        for n in range(200)
    )

    response = client.post(
        "/checklists/bus_trip/edit", data={"csrf_token": token, "source": source + many}
    )

    assert response.status_code == 422
    assert "items：一张检查表最多 200 个条目" in response.get_data(as_text=True)


def test_one_districts_edit_leaves_another_districts_forms_and_checklists_as_they_were(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    ours, theirs = make_school(session, "S1"), make_school(session, "S2")
    make_person(session, clock, ours, Role.DISTRICT_ADMIN, "ours")
    make_person(session, clock, theirs, Role.DISTRICT_ADMIN, "theirs")
    our_asset = make_asset(session, clock, ours, code="E-1")
    their_asset = make_asset(session, clock, theirs, code="E-2")
    session.commit()
    auth.login("ours")
    token, source = _edit_page(client, "extinguisher_monthly")
    changed = source.replace("灭火器月度检查", "灭火器检查（本区）")
    saved = client.post(
        "/checklists/extinguisher_monthly/edit", data={"csrf_token": token, "source": changed}
    )
    assert saved.status_code == 302
    our_form = client.get(f"/s/{our_asset.current_label.token}/record/extinguisher_monthly")
    assert "灭火器检查（本区）" in our_form.get_data(as_text=True)
    client = app.test_client()
    Auth(client).login("theirs")
    form = client.get(f"/s/{their_asset.current_label.token}/record/extinguisher_monthly")
    page = client.get("/checklists/extinguisher_monthly").get_data(as_text=True)
    listed = client.get("/checklists").get_data(as_text=True)
    _token, their_source = _edit_page(client, "extinguisher_monthly")

    shown = form.get_data(as_text=True)
    assert "灭火器月度检查" in shown and "（本区）" not in shown
    assert "（本区）" not in page and "版本 2" not in page
    assert "（本区）" not in listed and "（本区）" not in their_source


def test_another_districts_own_checklist_is_not_found_on_any_of_its_pages(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    ours, theirs = make_school(session, "S1"), make_school(session, "S2")
    make_person(session, clock, ours, Role.DISTRICT_ADMIN, "ours")
    make_person(session, clock, theirs, Role.DISTRICT_ADMIN, "theirs")
    their_asset = make_asset(session, clock, theirs, code="E-2")
    session.commit()
    auth.login("ours")
    page = client.get("/checklists/new").get_data(as_text=True)
    own = NEW_TEMPLATE.replace('kind = "school_office"', 'kind = "extinguisher"')
    saved = client.post("/checklists/new", data={"csrf_token": csrf_token(page), "source": own})
    assert saved.headers["Location"].endswith("/checklists/new_checklist")
    assert "新检查表" in client.get("/checklists").get_data(as_text=True)
    client = app.test_client()
    Auth(client).login("theirs")
    token = csrf_token(client.get("/checklists").get_data(as_text=True))
    pages = [
        client.get("/checklists/new_checklist"),
        client.get("/checklists/new_checklist/edit"),
        client.get("/checklists/new_checklist/form"),
        client.post("/checklists/new_checklist/edit", data={"csrf_token": token, "source": own}),
        client.post(
            "/checklists/new_checklist/roles", data={"csrf_token": token, "roles": "inspector"}
        ),
        client.get(f"/s/{their_asset.current_label.token}/record/new_checklist"),
    ]

    assert [p.status_code for p in pages] == [404] * len(pages)
    assert "新检查表" not in client.get("/checklists").get_data(as_text=True)
    asset_page = client.get(f"/s/{their_asset.current_label.token}").get_data(as_text=True)
    assert "new_checklist" not in asset_page
    session.rollback()
    assert stored_versions(session, "new_checklist") == [1]
