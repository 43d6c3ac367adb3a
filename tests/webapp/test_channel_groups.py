"""通知渠道: administrators add and disable their schools' robot groups; keys stay hidden."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from models.robot_groups import ChannelGroup, GroupPost
from tests.conftest import Auth, csrf_token
from tests.factories import make_person, make_school

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def _add(client: FlaskClient, **fields: str) -> tuple[int, str]:
    page = client.get("/admin/channels").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "channel": "wecom_robot",
        "school": "S1",
        "role": "canteen_staff",
        "label": "Canteen group",
        "address": KEY,
        "signing_secret": "",
        "min_severity": "info",
        **fields,
    }
    response = client.post("/admin/channels", data=data, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def test_a_school_admin_adds_a_group_sees_only_the_keys_end_and_disables_it(
    session: Session, clock: SettableClock, client: FlaskClient, auth: Auth
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    session.commit()
    auth.login("head")

    status, page = _add(client)

    assert status == 200
    assert "Canteen group" in page
    assert KEY not in page and "…" + KEY[-4:] in page
    group = session.scalars(select(ChannelGroup)).one()
    assert group.address == KEY and group.school_id == school.id
    group_id = group.id
    session.rollback()  # the client's requests write next

    page = client.get("/admin/channels").get_data(as_text=True)
    client.post(f"/admin/channels/{group_id}/test", data={"csrf_token": csrf_token(page)})
    client.post(f"/admin/channels/{group_id}/disable", data={"csrf_token": csrf_token(page)})
    assert session.scalars(select(GroupPost)).one().group_id == group_id
    assert not session.get_one(ChannelGroup, group_id).active


def test_a_dingtalk_group_without_its_secret_is_refused_next_to_the_field(
    session: Session, clock: SettableClock, client: FlaskClient, auth: Auth
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    session.commit()
    auth.login("head")

    status, page = _add(client, channel="dingtalk_robot")

    assert status == 422
    assert "钉钉机器人需要填写加签密钥。" in page
    assert session.scalars(select(ChannelGroup)).all() == []


def test_a_school_admin_neither_sees_nor_adds_another_schools_groups(
    session: Session, clock: SettableClock, client: FlaskClient, auth: Auth
) -> None:
    mine = make_school(session, "S1")
    theirs = make_school(session, "S2", "第二小学")
    make_person(session, clock, mine, Role.SCHOOL_ADMIN, "head")
    session.add(
        ChannelGroup(
            district_id=theirs.district_id,
            school_id=theirs.id,
            channel="wecom_robot",
            label="Their canteen",
            address="their-secret-key",
            min_severity="info",
            created_at=clock.now(),
        )
    )
    session.commit()
    auth.login("head")

    assert "Their canteen" not in client.get("/admin/channels").get_data(as_text=True)
    status, _ = _add(client, school="S2")
    assert status == 422
    assert (
        session.scalars(select(ChannelGroup).where(ChannelGroup.school_id == mine.id)).all() == []
    )
