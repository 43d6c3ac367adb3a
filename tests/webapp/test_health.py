"""The canteen's morning health check on the phone: the staff listed with their certificates."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.health import HEALTH_CHECK
from tests.conftest import Auth
from tests.models.test_health import TICKED_OK, canteen_world
from tests.webapp.helpers import submit_form

__all__ = ["canteen_world"]  # the fixture, shared with the domain tests


def test_the_health_check_form_lists_the_canteen_staff_and_the_result_names_who_failed(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, canteen_world
) -> None:
    canteen, _, zhou = canteen_world
    session.commit()
    auth.login("manager")
    token = canteen.current_label.token

    form = client.get(f"/s/{token}/record/{HEALTH_CHECK}").get_data(as_text=True)
    filed = submit_form(client, token, HEALTH_CHECK, {**TICKED_OK, "off_duty": str(zhou.id)})
    result = client.get(filed.headers["Location"]).get_data(as_text=True)

    assert "健康证有效期至 2026-12-31" in form
    assert "健康证已于 2026-02-28 过期" in form and "登记中没有健康证" in form
    assert "Teacher" not in form
    assert "Li：健康证已于 2026-02-28 过期；Zhao：登记中没有健康证" in result
    assert "Zhou" not in result
