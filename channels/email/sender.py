"""The e-mail sender: one message per notice, plain text with an HTML alternative.

The notice's text is already in the recipient's language; its first line is the subject and
its page's address (server.base_url + link) closes both parts. One SMTP connection per
drain, STARTTLS when configured, a login when a username is set. A 4xx answer is tried again
later (the recipient's later notices wait behind it, so they arrive in order); a 5xx answer
for the recipient (550 user unknown) fails the notice for good, the reason in the log and on
the delivery, for the reach page. A server that cannot be reached stops the drain
(channels.ServiceDown) and nothing is marked.
"""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy.orm import Session, sessionmaker

from channels import ServiceDown, sender_id
from channels.email import CHANNEL
from models.catalogue import translate
from models.clock import Clock
from models.leases import release_rows
from models.messages import N_, Message
from models.notifications import Delivery
from models.outbox import (
    LEASE,
    Outgoing,
    claim_deliveries,
    mark_delivered,
    mark_failed,
    skip_unaddressed,
)
from models.unit_of_work import unit_of_work
from settings import EmailSettings

log = logging.getLogger(__name__)

OPEN_IN_HOUQIN = N_("Open in Houqin")
SUBJECT_LIMIT = 120
# Why a notice did not reach its address, as an administrator reads it on the reach page.
ADDRESS_REFUSED = N_("The mail server refused the address: %(answer)s")
TRY_LATER = N_("The mail server asked to try again later: %(answer)s")


def compose(item: Outgoing, sender: str, base_url: str) -> EmailMessage:
    """The notice as an e-mail: subject from its first line, text and HTML with its link."""
    url = f"{base_url.rstrip('/')}{item.link}" if item.link else None
    first = item.text.strip().splitlines()[0] if item.text.strip() else "Houqin"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = item.address
    message["Subject"] = first[:SUBJECT_LIMIT]
    message["Message-ID"] = make_msgid(domain="houqin")
    label = translate(item.locale, OPEN_IN_HOUQIN)
    text = item.text if url is None else f"{item.text}\n\n{label}: {url}\n"
    message.set_content(text)
    lines = "<br>\n".join(html.escape(line) for line in item.text.splitlines())
    link = f'<p><a href="{html.escape(url)}">{html.escape(label)}</a></p>' if url else ""
    lang = "zh-CN" if item.locale.startswith("zh") else item.locale
    message.add_alternative(
        f'<!doctype html><html lang="{lang}"><body><p>{lines}</p>{link}</body></html>',
        subtype="html",
    )
    return message


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else answer


class EmailSender:
    name = CHANNEL

    def __init__(
        self,
        settings: EmailSettings,
        factory: sessionmaker[Session],
        clock: Clock,
        *,
        base_url: str = "",
        batch: int = 500,
        retry_after: timedelta = timedelta(minutes=5),
        tls_context: ssl.SSLContext | None = None,
        sender: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.sender = sender or sender_id()
        self.lease = lease
        self.settings = settings
        self.factory = factory
        self.clock = clock
        self.base_url = base_url
        self.batch = batch
        self.retry_after = retry_after
        self.tls_context = tls_context or ssl.create_default_context()

    def drain(self) -> int:
        """Send everything deliverable now; how many notices were delivered."""
        with unit_of_work(self.factory) as session:
            skip_unaddressed(session, CHANNEL, now=self.clock.now())
        try:
            return self._drain()
        finally:
            with unit_of_work(self.factory) as session:
                # What this pass claimed and did not send (a held address's later notices).
                release_rows(session, Delivery, self.sender)

    def _claim(self, after: int = 0) -> list[Outgoing]:
        with unit_of_work(self.factory) as session:
            return claim_deliveries(
                session,
                CHANNEL,
                now=self.clock.now(),
                after_id=after,
                limit=self.batch,
                sender=self.sender,
                lease=self.lease,
            )

    def _drain(self) -> int:
        first = self._claim()
        if not first:
            return 0
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as failed:
            raise ServiceDown(str(failed) or type(failed).__name__) from failed
        delivered = 0
        held: set[str] = set()
        pending = first
        try:
            while pending:
                for item in pending:
                    if item.address not in held:
                        outcome = self._send(smtp, item)
                        delivered += outcome == "sent"
                        if outcome == "later":
                            held.add(item.address)
                pending = self._claim(pending[-1].delivery_id)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        return delivered

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=self.tls_context)
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password)
        return smtp

    def _send(self, smtp: smtplib.SMTP, item: Outgoing) -> str:
        """ "sent", "failed" (for good) or "later"."""
        message = compose(item, self.settings.sender, self.base_url)
        reason: str | None = None
        code = 0
        try:
            refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as failed:
            code, answer = failed.recipients.get(item.address, (550, b"refused"))
            reason = f"{code} {_text(answer)}"
        except smtplib.SMTPResponseException as failed:
            code = failed.smtp_code
            reason = f"{code} {_text(failed.smtp_error)}"
        except (OSError, smtplib.SMTPServerDisconnected) as failed:
            raise ServiceDown(str(failed) or type(failed).__name__) from failed
        else:
            if item.address in refused:
                code, answer = refused[item.address]
                reason = f"{code} {_text(answer)}"
        now = self.clock.now()
        with unit_of_work(self.factory) as session:
            if reason is None:
                mark_delivered(session, item.delivery_id, message["Message-ID"], now=now)
                return "sent"
            if 400 <= code < 500:
                log.info(
                    "e-mail notice %d to %s deferred: %s", item.delivery_id, item.address, reason
                )
                mark_failed(
                    session,
                    item.delivery_id,
                    now=now,
                    retry_at=now + self.retry_after,
                    reason=Message(TRY_LATER, {"answer": reason}),
                )
                return "later"
            log.warning(
                "e-mail notice %d to %s failed for good: %s", item.delivery_id, item.address, reason
            )
            mark_failed(
                session,
                item.delivery_id,
                now=now,
                retry_at=None,
                reason=Message(ADDRESS_REFUSED, {"answer": reason}),
            )
            return "failed"
