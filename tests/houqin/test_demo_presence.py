"""The demo's records carry their photos' capture times: a walk through the demo finds the
flags it stages, not every record flagged for an undated photo."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.records import Record


def test_the_demos_photos_have_capture_times(demo: Session) -> None:

    with_photos = demo.scalar(
        select(func.count()).select_from(Record).where(Record.photo_age_seconds.is_not(None))
    )
    untimed = demo.scalar(select(func.count()).select_from(Record).where(Record.photos_untimed > 0))
    assert with_photos and with_photos > 10
    assert untimed == 0
