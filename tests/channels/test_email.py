"""E-mail over SMTP against a local aiosmtpd server (plain SMTP: starttls off, since the test
server has no certificate a client would trust)."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels import ServiceDown
from channels.email.sender import EmailSender
from models.clock import SettableClock
from models.notifications import Delivery, Severity, notify
from models.outbox import claim_deliveries
from models.people import Person, Role
from settings import EmailSettings
from tests.factories import make_address, make_person, make_school
from tests.webapp.helpers import reach_page


class Mailbox:
    """Keeps what arrives; refuses recipients at unknown.example with 550, and at
    busy.example with 451 while `busy` is set."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.busy = True

    async def handle_RCPT(
        self, server: SMTP, session: SMTPSession, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.endswith("@unknown.example"):
            return "550 5.1.1 user unknown"
        if address.endswith("@busy.example") and self.busy:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)  # type: ignore[arg-type]
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """The SMTP server on one port, which a test can stop and start again."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.port = _free_port()
        self.mailbox = mailbox
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[tuple[Server, Mailbox]]:
    mailbox = Mailbox()
    server = Server(mailbox)
    server.start()
    yield server, mailbox
    server.stop()


def _sender(
    controller: Server, factory: sessionmaker[Session], clock: SettableClock
) -> EmailSender:
    settings = EmailSettings(
        host="127.0.0.1",
        port=controller.port,
        starttls=False,
        sender="Houqin <houqin@school.example>",
        timeout_seconds=2,
    )
    return EmailSender(settings, factory, clock, base_url="https://houqin.example")


def _person(session: Session, clock: SettableClock, address: str, name: str, locale: str) -> Person:
    school = make_school(session, code=f"S{name}")
    person = make_person(session, clock, school, Role.SCHOOL_ADMIN, name)
    person.locale = locale
    make_address(session, person, "email", address, clock.now())
    return person


def _queue(session: Session, clock: SettableClock, person: Person, key: str) -> None:
    notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": {"zh_CN": f"灭火器 {key}", "en": f"extinguisher {key}"}},
        severity=Severity.CRITICAL,
        dedup_key=f"test:{key}",
        now=clock.now(),
        link="/tasks",
    )
    session.commit()


def _outcomes(session: Session) -> list[str | None]:
    session.expire_all()
    return list(session.scalars(select(Delivery.outcome).order_by(Delivery.id)))


def test_an_email_arrives_with_text_and_html_in_the_persons_language_with_the_link(
    smtp: tuple[Server, Mailbox],
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
) -> None:
    controller, mailbox = smtp
    english = _person(session, clock, "li@school.example", "li", "en")
    chinese = _person(session, clock, "wang@school.example", "wang", "zh_CN")
    _queue(session, clock, english, "A1")
    _queue(session, clock, chinese, "B2")
    sender = _sender(controller, session_factory, clock)
    assert sender.drain() == 2
    assert sender.drain() == 0
    by_to = {m["To"]: m for m in mailbox.messages}
    assert len(mailbox.messages) == 2
    english_mail = by_to["li@school.example"]
    assert "extinguisher A1" in english_mail["Subject"]
    text = english_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = english_mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "extinguisher A1" in text and "https://houqin.example/tasks" in text
    assert 'href="https://houqin.example/tasks"' in html and "extinguisher A1" in html
    assert "灭火器 B2" in by_to["wang@school.example"]["Subject"]
    assert _outcomes(session) == ["sent", "sent"]


def test_a_550_fails_for_good_with_the_reason_on_the_reach_page(
    app: Flask,
    client: FlaskClient,
    smtp: tuple[Server, Mailbox],
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    controller, mailbox = smtp
    person = _person(session, clock, "nobody@unknown.example", "no", "en")
    school_code = person.grants[0].school.code
    _queue(session, clock, person, "C3")
    assert _sender(controller, session_factory, clock).drain() == 0
    assert _outcomes(session) == ["failed"]
    assert "550" in caplog.text and "user unknown" in caplog.text
    assert mailbox.messages == []
    session.commit()  # the page's own session writes (the login)
    page = reach_page(app, client, "no", school_code, "email")
    assert "The mail server refused the address: 550 5.1.1 user unknown" in page


def test_a_4xx_is_tried_again_later_and_the_next_notices_wait_behind_it(
    smtp: tuple[Server, Mailbox],
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
) -> None:
    controller, mailbox = smtp
    person = _person(session, clock, "full@busy.example", "busy", "en")
    _queue(session, clock, person, "D1")
    _queue(session, clock, person, "D2")
    sender = _sender(controller, session_factory, clock)
    assert sender.drain() == 0
    mailbox.busy = False
    assert sender.drain() == 0  # not before the retry time
    clock.advance(timedelta(minutes=6))
    assert sender.drain() == 2
    assert ["D1" in m["Subject"] for m in mailbox.messages] == [True, False]


def test_a_server_down_for_a_while_then_back_delivers_everything_once_in_order(
    smtp: tuple[Server, Mailbox],
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
) -> None:
    controller, mailbox = smtp
    person = _person(session, clock, "li@school.example", "li", "en")
    sender = _sender(controller, session_factory, clock)
    _queue(session, clock, person, "E1")
    controller.stop()
    for _ in range(2):
        with pytest.raises(ServiceDown):
            sender.drain()
    _queue(session, clock, person, "E2")
    controller.start()
    assert sender.drain() == 2
    assert sender.drain() == 0
    assert [m["Subject"][-2:] for m in mailbox.messages] == ["E1", "E2"]


def test_a_second_sender_leaves_what_a_killed_one_holds_until_its_lease_ends_then_sends_once(
    smtp: tuple[Server, Mailbox],
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
) -> None:
    controller, mailbox = smtp
    person = _person(session, clock, "li@school.example", "li", "en")
    _queue(session, clock, person, "E1")
    _queue(session, clock, person, "E2")
    killed = _sender(controller, session_factory, clock)
    with session_factory() as claiming:  # it claimed both, then died before sending
        claim_deliveries(
            claiming, "email", now=clock.now(), sender=killed.sender, lease=killed.lease
        )
        claiming.commit()
    other = _sender(controller, session_factory, clock)

    assert other.drain() == 0 and mailbox.messages == []
    clock.advance(killed.lease + timedelta(seconds=1))
    assert other.drain() == 2
    assert other.drain() == 0
    assert [m["Subject"][-2:] for m in mailbox.messages] == ["E1", "E2"]
