"""The demo district as a person walking through it finds it: a history that has happened."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from houqin.demo import seed_demo
from models.actions import ActionEvent
from models.duties import Task
from models.records import Record
from settings import Settings

# 08:30 in Shanghai: early enough that a history filed "this morning" from 09:00 on would lie
# in the future.
NOW = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)


def test_the_demo_has_no_record_completion_or_action_step_after_now(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the label sheet goes to ./var/

    seed_demo(session, settings, now=NOW)

    assert session.scalar(select(func.count()).select_from(Record)) > 20
    assert session.scalar(select(func.max(Record.submitted_at))) < NOW
    assert session.scalar(select(func.count()).where(Task.done_at.is_not(None))) > 0
    assert session.scalar(select(func.max(Task.done_at))) < NOW
    assert session.scalar(select(func.count()).select_from(ActionEvent)) > 0
    assert session.scalar(select(func.max(ActionEvent.at))) < NOW
