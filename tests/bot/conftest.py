"""The fake Telegram Bot API and a bot pointed at it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from settings import Settings
from tests.fake_telegram import PACE, FakeTelegram, Limits


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram(limits=Limits().scaled(PACE)).start()
    yield server
    server.stop()


@pytest.fixture
def bot_settings(settings: Settings, fake: FakeTelegram) -> Settings:
    settings.telegram.token = fake.token
    settings.telegram.base_url = fake.base_url
    settings.telegram.base_file_url = fake.base_file_url
    return settings
