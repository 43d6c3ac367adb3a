"""Food samples (留样): every dish of a meal at least 125 g, kept 48 hours, then disposed of."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind
from models.checklist_roles import NotYoursToFile
from models.clock import SettableClock
from models.food_samples import DISPOSAL_DUE, DisposalRefused, dispose_sample, kept_samples
from models.messages import SubmissionInvalid
from models.notifications import Notification
from models.org import School
from models.people import Person, Role
from models.photos import PhotoStore
from models.records import Channel, Record, Submission, Upload, submit_record
from models.sweep import sweep
from tests.factories import cst, distinct_jpeg, field_errors, make_asset, make_person, template_for

SAMPLE = "canteen_food_sample_retention"


def _sample(cook: Person, **changes: str) -> dict[str, str]:
    return {
        "meal": "lunch",
        "dish": "番茄炒蛋",
        "weight": "150",
        "sampled_at": "12:00",
        "sampler": str(cook.id),
        "fridge": "留样专柜 1 号",
        "fridge_temp": "4",
        "labelled": "yes",
        **changes,
    }


def _file(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    cook: Person,
    canteen: Asset,
    answers: dict[str, str],
    n: int = 1,
) -> Submission:
    return submit_record(
        session,
        actor=cook,
        asset=canteen,
        template=template_for(session, SAMPLE),
        answers=answers,
        uploads=[Upload("photo", distinct_jpeg(f"sample{n}"))],
        key=f"sample-{n:04}",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )


@pytest.fixture
def kitchen(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> tuple[Person, Asset]:
    school, _, cook = canteen_school
    return cook, make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂")


def test_a_sample_under_125_g_is_refused_at_the_weight_and_nothing_is_stored(
    session: Session, clock: SettableClock, store: PhotoStore, kitchen: tuple[Person, Asset]
) -> None:
    cook, canteen = kitchen
    clock.set(cst(2, 12, 10))

    with pytest.raises(SubmissionInvalid) as refused:
        _file(session, clock, store, cook, canteen, _sample(cook, weight="100"))

    assert field_errors(refused) == {"weight": "Must be at least %(min)s."}
    assert refused.value.errors["weight"].params == {"min": "125"}
    assert session.scalar(select(func.count()).select_from(Record)) == 0


def test_a_sample_of_125_g_is_kept_with_its_dish_fridge_and_sampler(
    session: Session, clock: SettableClock, store: PhotoStore, kitchen: tuple[Person, Asset]
) -> None:
    cook, canteen = kitchen
    clock.set(cst(2, 12, 10))

    record = _file(session, clock, store, cook, canteen, _sample(cook, weight="125")).record

    assert record.passed
    assert record.answers["dish"] == "番茄炒蛋"
    assert record.answers["fridge"] == "留样专柜 1 号"
    assert record.answers["sampler"] == {"id": cook.id, "name": cook.display_name}


def test_each_dish_of_a_meal_is_its_own_sample(
    session: Session, clock: SettableClock, store: PhotoStore, kitchen: tuple[Person, Asset]
) -> None:
    cook, canteen = kitchen
    clock.set(cst(2, 12, 10))

    _file(session, clock, store, cook, canteen, _sample(cook), n=1)
    second = _file(session, clock, store, cook, canteen, _sample(cook, dish="米饭"), n=2)

    assert second.created
    assert [s.dish for s in kept_samples(session, canteen, clock.now())] == ["番茄炒蛋", "米饭"]


def test_disposal_before_48_hours_is_refused_saying_when_it_may_go(
    session: Session, clock: SettableClock, store: PhotoStore, kitchen: tuple[Person, Asset]
) -> None:
    cook, canteen = kitchen
    clock.set(cst(2, 12, 10))
    record = _file(session, clock, store, cook, canteen, _sample(cook)).record

    clock.set(cst(4, 11, 59))  # 47 h 59 min after it was sampled at 12:00
    with pytest.raises(DisposalRefused) as refused:
        dispose_sample(session, cook, record, clock.now())

    assert refused.value.message.params == {"when": "2026-03-04 12:00"}
    [kept] = kept_samples(session, canteen, clock.now())
    assert not kept.ready
    assert kept.disposable_from == cst(4, 12, 0)


def test_at_48_hours_the_disposal_is_recorded_and_the_sample_leaves_the_list(
    session: Session, clock: SettableClock, store: PhotoStore, kitchen: tuple[Person, Asset]
) -> None:
    cook, canteen = kitchen
    clock.set(cst(2, 12, 10))
    record = _file(session, clock, store, cook, canteen, _sample(cook)).record
    clock.set(cst(4, 12, 0))
    assert [s.ready for s in kept_samples(session, canteen, clock.now())] == [True]

    disposal = dispose_sample(session, cook, record, clock.now())

    assert disposal.disposed_at == cst(4, 12, 0)
    assert disposal.disposed_by_id == cook.id
    assert kept_samples(session, canteen, clock.now()) == []
    with pytest.raises(DisposalRefused):
        dispose_sample(session, cook, record, clock.now() + timedelta(hours=1))


def test_the_48_hours_count_from_the_sampling_time_not_from_filing(
    session: Session, clock: SettableClock, store: PhotoStore, kitchen: tuple[Person, Asset]
) -> None:
    cook, canteen = kitchen
    clock.set(cst(2, 13, 30))  # filed after lunch, sampled at 11:40
    record = _file(session, clock, store, cook, canteen, _sample(cook, sampled_at="11:40")).record

    clock.set(cst(4, 11, 40))
    assert dispose_sample(session, cook, record, clock.now()).record_id == record.id


def test_someone_who_does_not_file_samples_may_not_dispose_of_one(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    kitchen: tuple[Person, Asset],
    canteen_school: tuple[School, Person, Person],
) -> None:
    cook, canteen = kitchen
    driver = make_person(session, clock, canteen_school[0], Role.BUS_STAFF, "driver")
    clock.set(cst(2, 12, 10))
    record = _file(session, clock, store, cook, canteen, _sample(cook)).record
    clock.set(cst(5, 12, 0))

    with pytest.raises(NotYoursToFile) as refused:
        dispose_sample(session, driver, record, clock.now())

    assert "filed by" in refused.value.message.msgid
    assert [s.record.id for s in kept_samples(session, canteen, clock.now())] == [record.id]


def test_each_morning_the_canteen_hears_of_samples_past_their_48_hours_until_disposed_of(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
) -> None:
    school, _, cook = canteen_school
    canteen = make_asset(
        session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂", responsible=cook
    )
    clock.set(cst(2, 12, 10))
    record = _file(session, clock, store, cook, canteen, _sample(cook)).record

    def reminders() -> list[Notification]:
        return list(
            session.scalars(select(Notification).where(Notification.message == DISPOSAL_DUE))
        )

    sweep(session, now=cst(4, 7, 40))  # 44 hours on: not yet
    assert reminders() == []
    sweep(session, now=cst(5, 7, 40))
    sweep(session, now=cst(5, 9, 0))
    [notice] = reminders()
    assert notice.recipient_id == cook.id
    assert notice.params["count"] == 1
    assert notice.link == f"/s/{canteen.current_label.token}#samples"  # type: ignore[union-attr]

    dispose_sample(session, cook, record, cst(5, 9, 5))
    sweep(session, now=cst(6, 7, 40))
    assert len(reminders()) == 1
