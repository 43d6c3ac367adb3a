"""The canteen's morning health check on the phone: one small block per canteen worker, with
their certificate from the register and their answers, usable without JavaScript."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.health import HEALTH_CHECK
from models.people import Person
from tests.conftest import Auth
from tests.factories import worker_answers
from tests.models.test_health import canteen_world
from tests.webapp.helpers import open_form, submit_form

__all__ = ["canteen_world"]  # the fixture, shared with the domain tests


def test_the_health_check_form_asks_after_each_worker_and_the_result_names_who_failed(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, canteen_world
) -> None:
    canteen, _, zhou = canteen_world
    staff = {p.username: p for p in session.scalars(select(Person))}
    session.commit()
    auth.login("manager")
    token = canteen.current_label.token

    form = client.get(f"/s/{token}/record/{HEALTH_CHECK}").get_data(as_text=True)
    wang = form.split(f'id="w-{staff["wang"].id}"')[1].split('<div class="card worker"')[0]
    assert "健康证有效期至 2026-12-31" in wang
    assert all(
        text in wang for text in ("上岗", "休息", "身体不适，已离岗", "发热", "工作衣帽干净")
    )
    assert f'name="staff.{staff["wang"].id}.duty" value="on"' in wang
    # Only the first question is required in the browser: the rest wait for "on duty".
    assert "required" not in wang.split(f'name="staff.{staff["wang"].id}.healthy"')[1][:40]
    assert "健康证已于 2026-02-28 过期" in form and "登记中没有健康证" in form
    # English nowhere, and no script but the app's own files.
    assert "Teacher" not in form and "<script>" not in form

    unanswered = submit_form(client, token, HEALTH_CHECK, worker_answers(staff["wang"]))
    assert unanswered.status_code == 422
    li = unanswered.get_data(as_text=True).split(f'id="f-staff.{staff["li"].id}.duty"')[1]
    assert "此项必填" in li.split("</fieldset>")[0]

    answers = {
        **worker_answers(staff["wang"], healthy="no"),
        f"staff.{staff['wang'].id}.symptoms": "diarrhoea",
        **worker_answers(staff["li"], duty="off"),
        **worker_answers(staff["zhao"]),
        **worker_answers(zhou, duty="off"),
    }
    filed = submit_form(client, token, HEALTH_CHECK, answers)
    result = client.get(filed.headers["Location"]).get_data(as_text=True)

    assert "身体不适人员未离岗" in result
    workers = result.split('id="workers"')[1].split("</ul>")[0]
    assert "Wang" in workers and "腹泻" in workers and "休息" in workers
    assert "上岗 2 人，共 4 人" in result
    assert "有上岗人员无有效健康证" in result and "Zhao（登记中没有健康证）" in result

    ledger = client.get(f"/ledger/{canteen.school.code}?checklist={HEALTH_CHECK}").get_data(
        as_text=True
    )
    assert "上岗 2 人，共 4 人：Wang、Zhao" in ledger
    assert "身体不适人员未离岗：Wang（腹泻）" in ledger


def test_all_ok_marks_every_worker_at_work_and_well_without_javascript(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, canteen_world
) -> None:
    canteen, _, _ = canteen_world
    wang = session.scalars(select(Person).where(Person.username == "wang")).one()
    session.commit()
    auth.login("manager")
    token = canteen.current_label.token
    csrf, key = open_form(client, token, HEALTH_CHECK)

    page = client.post(
        f"/s/{token}/record/{HEALTH_CHECK}",
        data={"csrf_token": csrf, "submission_key": key, "all_pass": "1"},
    ).get_data(as_text=True)

    assert f'name="staff.{wang.id}.duty" value="on" checked' in page
    assert f'name="staff.{wang.id}.healthy" value="yes" checked' in page
    assert f'name="staff.{wang.id}.clothes" value="yes" checked' in page
