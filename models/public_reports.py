"""A problem reported by someone without an account (a student, a parent, a cleaner) who
scanned a label: a corrective action for the asset's responsible person, and a short
reference the reporter can quote.

Nobody is asked to prove they are human. Reports are limited instead: so many per label in an
hour, so many per client address in a day (an IPv6 address counts by its /64, which one phone
or one home holds). The address is kept only as long as the limit needs it.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, ForeignKey, String, func, select, update
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from models.actions import (
    DUE_AFTER,
    ActionEvent,
    ActionStatus,
    CorrectiveAction,
    EventKind,
    clean_description,
)
from models.assets import Asset, Label
from models.base import Base
from models.messages import N_, DomainError, Message
from models.notifications import Severity, notify, school_admins
from models.photos import PhotoStore, ProcessedPhoto, store_photo
from qr_labels.tokens import looks_like_token

# The item_key of an action opened by a public report (a failed check names its item).
PUBLIC_REPORT = "public_report"
SEVERITY = "major"

# Eight of 31 letters and digits that cannot be misread (no 0/O, 1/I/L, U): about 8.5 × 10¹¹
# references, so guessing one that exists is hopeless; and they are not the action's id.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 8
SOURCE_MAX = 100
KEY_MIN, KEY_MAX = 8, 64

LABEL_WINDOW = timedelta(hours=1)
SOURCE_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class ReportLimits:
    """How many public reports are taken per label in an hour and per address in a day
    (config reports.public_per_label_per_hour, reports.public_per_address_per_day)."""

    per_label_per_hour: int = 5
    per_address_per_day: int = 10


class PublicReport(Base):
    """Who may not be named, but where and when: the label scanned, the client address (until
    the day's limit no longer needs it), the reference handed out."""

    __tablename__ = "public_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_action.id"), unique=True)
    label_id: Mapped[int] = mapped_column(ForeignKey("label.id"), index=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), unique=True)
    # Empty once the address limit's window has passed.
    source: Mapped[str] = mapped_column(String(SOURCE_MAX), index=True)
    reported_at: Mapped[datetime] = mapped_column(index=True)
    # The form's own key (a hidden field), so a send retried on a weak signal, or tapped
    # twice, is the one report it was (None: sent without one).
    submission_key: Mapped[str | None] = mapped_column(String(KEY_MAX), unique=True)

    action: Mapped[CorrectiveAction] = relationship()
    label: Mapped[Label] = relationship()


class ReportRefused(DomainError):
    """No report can be taken at this label (withdrawn, or its asset retired)."""


class ReportThrottled(DomainError):
    """Too many reports for this label or from this address, for now."""


def label_for_public(session: Session, token: str) -> Label | None:
    """The label with this token, live or withdrawn (a withdrawn one says so); None for junk."""
    if not looks_like_token(token):
        return None
    return session.scalar(
        select(Label)
        .where(Label.token == token)
        # The page names the asset and its school: read with the label.
        .options(joinedload(Label.asset).joinedload(Asset.school))
    )


def refusal(label: Label) -> Message | None:
    """Why nothing can be reported at this label, or None when a report is taken."""
    if label.revoked_at is not None:
        return Message(N_("This label is no longer in use: nothing can be reported with it."))
    if label.asset.retired_at is not None:
        return Message(N_("This asset is retired: nothing can be reported here."))
    return None


def source_of(address: str) -> str:
    """The client address as the limit counts it: an IPv6 address by its /64."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:SOURCE_MAX] or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed.ipv4_mapped if isinstance(parsed, ipaddress.IPv6Address) else parsed)


def submission_key(sent: str | None) -> str | None:
    """The form's key as kept, or None for none or junk (the report is taken without one)."""
    key = (sent or "").strip()
    return key if KEY_MIN <= len(key) <= KEY_MAX and key.isascii() and key.isprintable() else None


def earlier_report(session: Session, label: Label, key: str | None) -> PublicReport | None:
    """The report this form already made at this label (a retry, a second tap), if any."""
    key = submission_key(key)
    if key is None:
        return None
    return session.scalar(
        select(PublicReport).where(
            PublicReport.submission_key == key, PublicReport.label_id == label.id
        )
    )


def _count(session: Session, condition: ColumnElement[bool], *, since: datetime) -> int:
    query = select(func.count(PublicReport.id)).where(condition, PublicReport.reported_at > since)
    return session.scalar(query) or 0


def check_limits(
    session: Session, label: Label, source: str, *, limits: ReportLimits, now: datetime
) -> None:
    """Refuse a report past either limit, saying which and when to try again."""
    if (
        _count(session, PublicReport.label_id == label.id, since=now - LABEL_WINDOW)
        >= limits.per_label_per_hour
    ):
        raise ReportThrottled(
            Message(
                N_(
                    "This label has had many reports in the last hour, and the person "
                    "responsible has been told. Please try again later."
                )
            )
        )
    if (
        _count(session, PublicReport.source == source_of(source), since=now - SOURCE_WINDOW)
        >= limits.per_address_per_day
    ):
        raise ReportThrottled(
            Message(N_("Too many reports from your network today. Please try again tomorrow."))
        )


def _new_reference(session: Session) -> str:
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        taken = session.scalar(select(PublicReport.id).where(PublicReport.reference == reference))
        if taken is None:
            return reference


def report_without_account(
    session: Session,
    label: Label,
    *,
    description: str,
    photo: ProcessedPhoto | None,
    source: str,
    limits: ReportLimits,
    store: PhotoStore,
    now: datetime,
    key: str | None = None,
) -> PublicReport:
    """A stranger's report at a label: an action for the asset's responsible person, due as a
    major failure is, announced as any action is (to the school's administrators when nobody
    is responsible). Refused at a withdrawn label or a retired asset, and past the limits.

    The same form sent again (`key`) is the report it made, counted once against the limits."""
    reason = refusal(label)
    if reason is not None:
        raise ReportRefused(reason)
    description = clean_description(description)
    # The label's row is the lock: two reports at one label are counted one after the other,
    # and a form sent twice at once finds its first report here.
    session.scalar(select(Label.id).where(Label.id == label.id).with_for_update())
    key = submission_key(key)
    earlier = earlier_report(session, label, key)
    if earlier is not None:
        return earlier
    if key is not None and session.scalar(
        select(PublicReport.id).where(PublicReport.submission_key == key)
    ):
        key = None  # a key another label's form sent: this is a report of its own
    check_limits(session, label, source, limits=limits, now=now)
    # Addresses the limit no longer needs are forgotten.
    session.execute(
        update(PublicReport)
        .where(PublicReport.reported_at <= now - SOURCE_WINDOW, PublicReport.source != "")
        .values(source="")
    )
    asset = label.asset
    stored = store_photo(session, store, photo, now=now) if photo is not None else None
    action = CorrectiveAction(
        school_id=asset.school_id,
        asset=asset,
        record_id=None,
        item_key=PUBLIC_REPORT,
        what={"zh_CN": description, "en": description},
        severity=SEVERITY,
        assignee=asset.responsible,
        status=ActionStatus.OPEN,
        opened_at=now,
        due_at=now + DUE_AFTER[SEVERITY],
        events=[
            ActionEvent(
                kind=EventKind.OPENED,
                at=now,
                by=None,
                note=description,
                photo_id=stored.id if stored is not None else None,
            )
        ],
    )
    session.add(action)
    report = PublicReport(
        action=action,
        label=label,
        reference=_new_reference(session),
        source=source_of(source),
        reported_at=now,
        submission_key=key,
    )
    session.add(report)
    session.flush()
    recipients = (
        [asset.responsible]
        if asset.responsible is not None and asset.responsible.active
        else school_admins(session, asset.school_id, asset.school.district_id)
    )
    notify(
        session,
        recipients,
        message=N_(
            "Reported without an account (reference %(reference)s), to fix by %(due)s: "
            "%(item)s at %(asset)s."
        ),
        params={
            "asset": f"{asset.code} {asset.name}",
            "item": action.what,
            "due": action.due_at.isoformat(),
            "reference": report.reference,
        },
        severity=Severity(SEVERITY),
        dedup_key=f"action:{action.id}:public",
        now=now,
        link=f"/actions/{action.id}",
    )
    return report


def references_of(session: Session, action_ids: list[int]) -> dict[int, str]:
    """The public-report reference of each of these actions that has one."""
    if not action_ids:
        return {}
    rows = session.execute(
        select(PublicReport.action_id, PublicReport.reference).where(
            PublicReport.action_id.in_(action_ids)
        )
    )
    return {action_id: reference for action_id, reference in rows}
