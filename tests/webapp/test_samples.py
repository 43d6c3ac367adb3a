"""The canteen's page lists the food samples still kept and records their disposal."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.food_samples import SampleDisposal
from models.people import Role
from models.records import Record
from tests.conftest import Auth, csrf_token
from tests.factories import cst, jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.helpers import submit_form


def _disposals(session: Session) -> int:
    session.rollback()
    count = session.scalar(select(func.count()).select_from(SampleDisposal)) or 0
    session.rollback()
    return count


def test_a_sample_waits_48_hours_on_the_canteen_page_then_its_disposal_is_recorded(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "学生食堂")
    session.commit()
    token = canteen.current_label.token  # type: ignore[union-attr]
    auth.login("cook")
    clock.set(cst(2, 12, 10))
    sample = {
        "meal": "lunch",
        "dish": "番茄炒蛋",
        "weight": "100",
        "sampled_at": "12:00",
        "sampler": str(cook.id),
        "fridge": "留样专柜 1 号",
        "fridge_temp": "4",
        "labelled": "yes",
    }
    too_light = submit_form(
        client, token, "canteen_food_sample_retention", sample, {"photo": jpeg_bytes()}
    )
    field = too_light.get_data(as_text=True).split('id="f-weight"')[1].split("</fieldset>")[0]
    assert too_light.status_code == 422
    assert "不能小于 125" in field

    filed = submit_form(
        client,
        token,
        "canteen_food_sample_retention",
        {**sample, "weight": "150"},
        {"photo": jpeg_bytes()},
    )
    assert filed.status_code == 302
    session.rollback()
    record_id = session.scalar(select(Record.id))
    session.rollback()

    clock.set(cst(3, 9, 0))
    page = client.get(f"/s/{token}").get_data(as_text=True)
    kept = page.split('id="samples"')[1].split("</div>")[0]
    assert "番茄炒蛋" in kept and "150 克" in kept and "午餐" in kept
    assert "03-04 12:00 起可处理" in kept
    early = client.post(
        f"/s/{token}/samples/{record_id}/dispose", data={"csrf_token": csrf_token(page)}
    )
    assert early.status_code == 302
    refusal = client.get(f"/s/{token}").get_data(as_text=True)
    assert "2026-03-04 12:00 起方可处理" in refusal
    assert _disposals(session) == 0

    clock.set(cst(4, 12, 5))
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "登记处理" in page.split('id="samples"')[1]
    client.post(f"/s/{token}/samples/{record_id}/dispose", data={"csrf_token": csrf_token(page)})
    after = client.get(f"/s/{token}").get_data(as_text=True)
    assert "留样处理已登记。" in after
    assert 'id="samples"' not in after
    assert _disposals(session) == 1


def test_the_record_and_the_ledger_show_when_a_sample_went_and_who_took_it(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "学生食堂")
    session.commit()
    token = canteen.current_label.token  # type: ignore[union-attr]
    auth.login("cook")
    clock.set(cst(2, 12, 10))
    sample = {
        "meal": "lunch",
        "weight": "150",
        "sampled_at": "12:00",
        "sampler": str(cook.id),
        "fridge": "留样专柜 1 号",
        "fridge_temp": "4",
        "labelled": "yes",
    }
    for dish in ("番茄炒蛋", "青菜"):
        submit_form(
            client,
            token,
            "canteen_food_sample_retention",
            {**sample, "dish": dish},
            {"photo": jpeg_bytes()},
        )
    session.rollback()
    egg, greens = session.scalars(select(Record.id).order_by(Record.id)).all()
    session.rollback()
    page = client.get(f"/records/{egg}").get_data(as_text=True)
    assert "未处置，可于 2026-03-04 12:00 后处置" in page.split('id="disposal"')[1]

    clock.set(cst(4, 12, 5))
    page = client.get(f"/s/{token}").get_data(as_text=True)
    client.post(f"/s/{token}/samples/{egg}/dispose", data={"csrf_token": csrf_token(page)})
    page = client.get(f"/records/{egg}").get_data(as_text=True)
    assert "2026-03-04 12:05" in page.split('id="disposal"')[1].split("</dd>")[0]
    assert "处置人" in page and "Cook" in page.split('id="disposal"')[1]

    client.post("/logout", data={"csrf_token": csrf_token(page)})
    auth.login("admin")
    query = "period=month&on=2026-03-02&checklist=canteen_food_sample_retention"
    screen = client.get(f"/ledger/{school.code}?{query}").get_data(as_text=True)
    assert all(h in screen for h in ("留样时间", "处置时间", "处置人"))
    egg_row = screen.split(f"/records/{egg}")[1].split("</tr>")[0]
    assert "2026-03-02 12:00" in egg_row and "2026-03-04 12:05" in egg_row and "Cook" in egg_row
    assert "未处置，可于 2026-03-04 12:00 后处置" in screen.split(f"/records/{greens}")[1]

    printed = client.get(f"/ledger/{school.code}/print?{query}").get_data(as_text=True)
    assert "处置时间" in printed and "2026-03-04 12:05" in printed

    book = load_workbook(io.BytesIO(client.get(f"/ledger/{school.code}/excel?{query}").data))
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert rows[0][-3:] == ("留样时间", "处置时间", "处置人")
    assert rows[1][-3:] == ("2026-03-02 12:00", "2026-03-04 12:05", "Cook")
    assert rows[2][-2:] == ("未处置，可于 2026-03-04 12:00 后处置", None)


def test_the_canteen_forms_ask_for_what_the_rules_name(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "学生食堂")
    session.commit()
    token = canteen.current_label.token  # type: ignore[union-attr]
    auth.login("admin")

    asked = {
        "canteen_accompanied_meal": ["陪餐人", "饭菜外观", "口味", "分量", "处理情况"],
        "canteen_parent_meal": ["陪餐家长", "家长意见建议", "学校反馈及处理", "不满意”时必填"],
        "canteen_food_sample_retention": ["菜品名称", "留样量", "每样不少于 125 克", "留样冰箱"],
        "canteen_receiving_check": ["规格", "生产日期或生产批号", "保质期", "进货日期"],
        "canteen_tableware_disinfection": ["委托集中消毒单位", "集中消毒单位", "消毒的餐具"],
    }
    for key, labels in asked.items():
        page = client.get(f"/s/{token}/record/{key}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200, key
        assert all(label in html for label in labels), key


def test_the_sampler_list_offers_the_canteen_staff_and_not_the_teachers(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    make_person(session, clock, school, Role.FOOD_SAFETY_OFFICER, "officer")
    make_person(session, clock, school, Role.TEACHER, "teacher")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "学生食堂")
    session.commit()
    token = canteen.current_label.token  # type: ignore[union-attr]
    auth.login("cook")

    page = client.get(f"/s/{token}/record/canteen_food_sample_retention").get_data(as_text=True)
    picker = page.split('id="i-sampler"')[1].split("</select>")[0]

    assert ">Cook<" in picker and ">Officer<" in picker
    assert ">Teacher<" not in picker


def test_a_dissatisfied_parent_meal_without_the_schools_answer_is_refused_next_to_it(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "学生食堂")
    session.commit()
    token = canteen.current_label.token  # type: ignore[union-attr]
    auth.login("admin")
    answers = {
        "meal": "lunch",
        "parent": "王芳",
        "satisfaction": "dissatisfied",
        "feedback": "菜太咸",
    }

    refused = submit_form(client, token, "canteen_parent_meal", answers)

    assert refused.status_code == 422
    field = refused.get_data(as_text=True).split('id="f-reply"')[1].split("</fieldset>")[0]
    assert "“家长评价”为“不满意”，此项必填。" in field
