"""Which language a person reads and which time zone: their own, else their district's."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from models.assets import KIND_LABELS, AssetKind
from models.catalogue import pick_text, translate
from models.clock import SettableClock
from models.labels import label_info
from models.notifications import Severity, notify
from models.org import District
from models.outbox import claim_deliveries
from models.people import Role, create_person, reading_locale, set_locale
from tests.factories import make_asset, make_chat, make_person, make_school

SAME_PHOTO = (
    "%(asset)s: record %(record)d (%(checklist)s) has the same photo as "
    "record %(earlier)d at %(at)s."
)


def _english_district(session: Session) -> District:
    district = District(code="D-EN", name="District", locale="en", timezone="Europe/London")
    session.add(district)
    return district


def test_a_person_reads_their_own_language_else_their_districts_else_the_default(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, district=_english_district(session))
    staff = make_person(session, clock, school, Role.TEACHER, "staff")
    newcomer = create_person(
        session, username="new", display_name="New", password="secret-pass", now=clock.now()
    )

    assert reading_locale(staff) == "en"
    assert reading_locale(newcomer, default="en") == "en"
    assert reading_locale(None) == "zh_CN"
    staff.locale = "zh_CN"
    assert reading_locale(staff) == "zh_CN"


def test_switching_language_switches_from_the_one_the_person_reads(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, district=_english_district(session))
    staff = make_person(session, clock, school, Role.TEACHER, "staff")

    assert set_locale(staff) == "zh_CN"  # reading their district's English: Chinese next


def test_notices_in_an_english_district_are_english_at_its_own_time(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, district=_english_district(session))
    staff = make_person(session, clock, school, Role.TEACHER, "staff")
    chooser = make_person(session, clock, school, Role.TEACHER, "chooser")
    chooser.locale = "zh_CN"
    params = {
        "asset": "Extinguisher",
        "record": 2,
        "checklist": {"zh_CN": "灭火器月度检查", "en": "Extinguisher check"},
        "earlier": 1,
        "at": datetime(2026, 3, 2, 8, 0, tzinfo=UTC).isoformat(),
    }

    english, chinese = notify(
        session,
        [staff, chooser],
        message=SAME_PHOTO,
        params=params,
        severity=Severity.MAJOR,
        dedup_key="same",
        now=clock.now(),
    )

    # 08:00 UTC is 08:00 in London in March (16:00 in Shanghai).
    assert english.text == (
        "Extinguisher: record 2 (Extinguisher check) has the same photo as record 1 at 03-02 08:00."
    )
    assert chinese.text == translate(
        "zh_CN", SAME_PHOTO, **{**params, "checklist": "灭火器月度检查", "at": "03-02 08:00"}
    )


def test_labels_name_the_kind_in_the_districts_language(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, district=_english_district(session))
    asset = make_asset(session, clock, school)

    info = label_info(asset, "http://houqin.test")

    assert info.kind == translate("en", KIND_LABELS[AssetKind.EXTINGUISHER])
    assert info.kind != translate("zh_CN", KIND_LABELS[AssetKind.EXTINGUISHER])


def test_a_missing_translation_falls_back_to_the_text_written_first() -> None:
    assert pick_text({"zh_CN": "灭火器", "en": ""}, "en") == "灭火器"
    assert pick_text({"zh_CN": "灭火器", "en": "Extinguisher"}, "en") == "Extinguisher"


def test_a_channel_writes_its_buttons_in_the_language_the_recipient_reads(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, district=_english_district(session))
    staff = make_person(session, clock, school, Role.TEACHER, "staff")
    make_chat(session, staff, 5001, clock.now())
    notify(
        session,
        [staff],
        message=SAME_PHOTO,
        params={
            "asset": "A",
            "record": 2,
            "checklist": "C",
            "earlier": 1,
            "at": "2026-03-02T08:00Z",
        },
        severity=Severity.MAJOR,
        dedup_key="same",
        now=clock.now(),
    )

    [outgoing] = claim_deliveries(session, "telegram", now=clock.now())

    assert outgoing.locale == "en"
