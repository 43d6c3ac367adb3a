"""Labels: unguessable tokens that can be revoked and reissued."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.assets import find_asset_by_token, issue_label, revoke_label
from models.clock import SettableClock
from tests.factories import make_asset, make_school


def test_a_new_asset_has_a_live_label_that_finds_it(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    asset = make_asset(session, clock, school)

    token = asset.current_label.token
    assert len(token) >= 22
    assert find_asset_by_token(session, token) is asset


def test_reissuing_a_label_stops_the_old_one_working(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    asset = make_asset(session, clock, school)
    old = asset.current_label.token

    new = issue_label(session, asset, now=clock.now()).token

    assert new != old
    assert find_asset_by_token(session, old) is None
    assert find_asset_by_token(session, new) is asset


def test_a_revoked_label_finds_nothing(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    asset = make_asset(session, clock, school)
    token = asset.current_label.token

    revoke_label(session, asset, now=clock.now())

    assert find_asset_by_token(session, token) is None
    assert asset.current_label is None


def test_junk_tokens_find_nothing(session: Session, clock: SettableClock) -> None:
    make_asset(session, clock, make_school(session))

    for junk in ["", "abc", "' OR 1=1 --", "x" * 500, "%00"]:
        assert find_asset_by_token(session, junk) is None


def test_tokens_are_unique_across_many_assets(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    tokens = {
        make_asset(session, clock, school, code=f"A-{n}").current_label.token for n in range(50)
    }

    assert len(tokens) == 50


def test_an_asset_is_found_by_its_code_in_any_case_only_at_the_persons_schools(
    session: Session, clock: SettableClock
) -> None:
    from models.assets import assets_in_care_of, visible_asset
    from tests.factories import make_asset, make_person, make_school

    school = make_school(session, "S1")
    other = make_school(session, "S2", district=school.district)
    keeper = make_person(session, clock, school)
    mine = make_asset(session, clock, school, code="MHQ-001", responsible=keeper)
    make_asset(session, clock, other, code="MHQ-002")

    assert visible_asset(session, keeper, code=" mhq-001 ") == mine
    assert visible_asset(session, keeper, code="MHQ-002") is None
    assert visible_asset(session, keeper, asset_id=mine.id) == mine
    assert assets_in_care_of(session, keeper) == [mine]
