"""The demo's records carry their photos' capture times: a walk through the demo finds the
flags it stages, not every record flagged for an undated photo."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from houqin.demo import seed_demo
from models.records import Record
from settings import Settings

NOW = datetime(2026, 3, 12, 2, 0, tzinfo=UTC)


def test_the_demos_photos_have_capture_times(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    seed_demo(session, settings, now=NOW)

    with_photos = session.scalar(
        select(func.count()).select_from(Record).where(Record.photo_age_seconds.is_not(None))
    )
    untimed = session.scalar(
        select(func.count()).select_from(Record).where(Record.photos_untimed > 0)
    )
    assert with_photos and with_photos > 10
    assert untimed == 0
