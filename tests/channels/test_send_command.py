"""`houqin send --once`: every configured channel drained once, as cron would run it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from channels.wecom.sender import TokenCache
from houqin.cli import main
from models.clock import SettableClock
from models.notifications import Severity, notify
from models.people import Role
from tests.channels.test_email import Mailbox, Server
from tests.factories import make_address, make_person, make_school
from tests.fake_wecom import FakeWeCom


@pytest.fixture
def fake() -> Iterator[FakeWeCom]:
    TokenCache.forget()
    server = FakeWeCom().start()
    yield server
    server.stop()


def test_send_once_delivers_on_wecom_and_email_and_logs_an_outage_once(
    fake: FakeWeCom,
    engine: Engine,
    session: Session,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mailbox = Mailbox()
    smtp = Server(mailbox)
    smtp.start()
    school = make_school(session)
    person = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_address(session, person, "wecom", "ZhangSan", clock.now())
    make_address(session, person, "email", "zhang@school.example", clock.now())
    notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": {"zh_CN": "灭火器", "en": "extinguisher"}},
        severity=Severity.CRITICAL,
        dedup_key="test:1",
        now=clock.now(),
        link="/tasks",
    )
    session.commit()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("houqin.migrate.check_current", lambda url: None)
    environment = {
        "HOUQIN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "HOUQIN_BASE_URL": "https://houqin.example.edu.cn",
        "HOUQIN_WECOM_BASE_URL": fake.base_url,
        "HOUQIN_WECOM_CORP_ID": fake.corp_id,
        "HOUQIN_WECOM_AGENT_ID": str(fake.agent_id),
        "HOUQIN_WECOM_SECRET": fake.secret,
        "HOUQIN_EMAIL_HOST": "127.0.0.1",
        "HOUQIN_EMAIL_PORT": str(smtp.port),
        "HOUQIN_EMAIL_STARTTLS": "false",
        "HOUQIN_EMAIL_SENDER": "houqin@school.example",
        "HOUQIN_EMAIL_TIMEOUT_SECONDS": "2",
    }
    try:
        result = CliRunner().invoke(main, ["send", "--once"], env=environment)
        assert result.exit_code == 0, result.output
        assert [m.user for m in fake.messages] == ["ZhangSan"]
        assert "https://houqin.example.edu.cn/tasks" in fake.messages[0].content
        assert [m["To"] for m in mailbox.messages] == ["zhang@school.example"]
        assert CliRunner().invoke(main, ["send", "--once"], env=environment).exit_code == 0
        assert len(fake.messages) == 1 and len(mailbox.messages) == 1
    finally:
        smtp.stop()
    with caplog.at_level(logging.WARNING):
        notify(
            session,
            [person],
            message="Due soon: %(tasks)s",
            params={"tasks": {"zh_CN": "饮水机", "en": "water dispenser"}},
            severity=Severity.CRITICAL,
            dedup_key="test:2",
            now=clock.now(),
        )
        session.commit()
        result = CliRunner().invoke(main, ["send", "--once"], env=environment)
    assert result.exit_code == 0
    assert len(fake.messages) == 2
    outage = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage) == 1 and outage[0].getMessage().startswith("email is unreachable")
