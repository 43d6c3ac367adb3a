"""Uniforms and exercise books (points 18–19) as a school's order for a term: which grades, how
many, the money collected from families, and when the supplier must be paid. An order not
settled by its due date is announced to the school's administrators once, the day after.

The delivery itself is still checked with its checklist (uniform_delivery, exercise_book_delivery);
the order is what the money and the settlement are held against."""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.messages import N_, Message, SubmissionInvalid
from models.notifications import Notification, Severity, notify, school_admins
from models.org import District, School
from models.people import Person
from models.stages import school_grades
from models.suppliers import RegisterRefused, Supplier, is_approved, suppliers_for


class Goods(enum.StrEnum):
    UNIFORMS = "uniforms"
    EXERCISE_BOOKS = "exercise_books"


GOODS_LABELS = {Goods.UNIFORMS: N_("School uniforms"), Goods.EXERCISE_BOOKS: N_("Exercise books")}
# The supplier register's category (models/suppliers.py) a supplier of the goods is approved for.
GOODS_CATEGORIES = {Goods.UNIFORMS: "uniforms", Goods.EXERCISE_BOOKS: "books"}


class Term(enum.StrEnum):
    SPRING = "spring"
    AUTUMN = "autumn"


TERM_LABELS = {Term.SPRING: N_("spring term"), Term.AUTUMN: N_("autumn term")}
MONEY_RE = re.compile(r"\d{1,9}(\.\d{1,2})?")
OVERDUE = N_(
    "%(goods)s for the %(year)d %(term)s: the supplier was to be paid by %(date)s and the "
    "order is not settled."
)


class SupplyOrder(Base):
    """One school's order of uniforms or exercise books for a term, and its settlement."""

    __tablename__ = "supply_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    goods: Mapped[str] = mapped_column(String(16))
    year: Mapped[int]
    term: Mapped[str] = mapped_column(String(8))
    grades: Mapped[list[Any]] = mapped_column(default=list)
    quantity: Mapped[int]
    # Money collected from the families, in fen (分), so sums are exact on every database.
    collected_fen: Mapped[int]
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"))
    settle_by: Mapped[date]
    settled_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    school: Mapped[School] = relationship()
    supplier: Mapped[Supplier | None] = relationship()

    @property
    def collected(self) -> str:
        """The money collected, in yuan with two decimals: "12345.50"."""
        return f"{Decimal(self.collected_fen) / 100:.2f}"

    def overdue_on(self, today: date) -> bool:
        return self.settled_on is None and self.settle_by < today

    def goods_label(self) -> dict[str, str]:
        return {"msgid": GOODS_LABELS[Goods(self.goods)]}


def _refuse_unless_manages(actor: Person, school: School) -> None:
    if not actor.can_manage_school(school):
        raise RegisterRefused(Message(N_("Only the school's administrators can do this.")))


def _money_fen(raw: str) -> int | None:
    text = raw.strip().replace(",", "").replace("，", "")
    if not MONEY_RE.fullmatch(text):
        return None
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:
        return None


def _date(raw: str | date | None) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def add_order(
    session: Session,
    actor: Person,
    school: School,
    *,
    goods: str,
    year: int | str,
    term: str,
    grades: list[str],
    quantity: int | str,
    collected: str,
    settle_by: str | date | None,
    supplier_id: int | None = None,
    note: str = "",
    now: datetime,
) -> SupplyOrder:
    """A school's order for a term; each bad field is named, nothing stored."""
    _refuse_unless_manages(actor, school)
    errors: dict[str, Message] = {}
    if goods not in set(Goods):
        errors["goods"] = Message(N_("Choose uniforms or exercise books."))
    try:
        year_number = int(year)
    except (TypeError, ValueError):
        year_number = 0
    if not 2000 <= year_number <= 2100:
        errors["year"] = Message(N_("Enter the school year, e.g. 2026."))
    if term not in set(Term):
        errors["term"] = Message(N_("Choose the spring or the autumn term."))
    offered = school_grades(school)
    chosen = [g for g in offered if g in grades]
    if not grades:
        errors["grades"] = Message(N_("Choose at least one grade."))
    elif len(chosen) != len(set(grades)):
        errors["grades"] = Message(N_("Choose grades the school teaches."))
    try:
        count = int(quantity)
    except (TypeError, ValueError):
        count = -1
    if not 1 <= count <= 1_000_000:
        errors["quantity"] = Message(N_("Enter how many were ordered, a whole number from 1."))
    fen = _money_fen(str(collected))
    if fen is None:
        errors["collected"] = Message(N_("Enter the amount collected in yuan, e.g. 12800.50."))
    due = _date(settle_by)
    if due is None:
        errors["settle_by"] = Message(N_("Enter the date the supplier must be paid by."))
    supplier = session.get(Supplier, supplier_id) if supplier_id else None
    if supplier_id and (supplier is None or supplier.district_id != school.district_id):
        errors["supplier"] = Message(N_("Choose one of the district's suppliers."))
    elif (
        supplier is not None
        and goods in set(Goods)
        and not is_approved(supplier, GOODS_CATEGORIES[Goods(goods)])
    ):
        errors["supplier"] = Message(
            N_("%(supplier)s is not approved for %(goods)s."),
            {"supplier": supplier.name, "goods": {"msgid": GOODS_LABELS[Goods(goods)]}},
        )
    if len(note) > 200:
        errors["note"] = Message(N_("At most %(count)d characters."), {"count": 200})
    if errors:
        raise SubmissionInvalid(errors)
    assert fen is not None and due is not None
    order = SupplyOrder(
        district_id=school.district_id,
        school_id=school.id,
        goods=goods,
        year=year_number,
        term=term,
        grades=chosen,
        quantity=count,
        collected_fen=fen,
        supplier=supplier,
        settle_by=due,
        note=note.strip(),
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(order)
    session.flush()
    return order


def settle_order(
    session: Session, actor: Person, order: SupplyOrder, settled_on: str | date, *, today: date
) -> None:
    """The day the supplier was paid: not in the future."""
    _refuse_unless_manages(actor, order.school)
    day = _date(settled_on)
    if day is None or day > today:
        raise SubmissionInvalid(
            {"settled_on": Message(N_("Enter the day it was settled, today or earlier."))}
        )
    order.settled_on = day
    order.settled_by_id = actor.id
    session.flush()


def school_orders(session: Session, school: School) -> list[SupplyOrder]:
    """The school's orders, the latest term first."""
    return list(
        session.scalars(
            select(SupplyOrder)
            .where(SupplyOrder.school_id == school.id)
            .order_by(
                SupplyOrder.year.desc(),
                SupplyOrder.term.asc(),  # "autumn" before "spring": the later term first
                SupplyOrder.goods,
                SupplyOrder.id,
            )
        )
    )


def visible_order(session: Session, viewer: Person, order_id: int) -> SupplyOrder | None:
    order = session.get(SupplyOrder, order_id)
    if order is None or not viewer.can_manage_school(order.school):
        return None
    return order


def order_suppliers(session: Session, school: School) -> dict[str, list[Supplier]]:
    """For each of the goods, the district's suppliers approved for it, by name."""
    return {
        goods: suppliers_for(session, school.district_id, GOODS_CATEGORIES[goods])
        for goods in Goods
    }


def remind_unsettled_orders(
    session: Session, district: District, *, today: date, now: datetime
) -> list[Notification]:
    """Each order past its settlement date and not settled, announced once to the school's
    administrators (else the district's)."""
    orders = session.scalars(
        select(SupplyOrder).where(
            SupplyOrder.district_id == district.id,
            SupplyOrder.settled_on.is_(None),
            SupplyOrder.settle_by < today,
        )
    )
    queued: list[Notification] = []
    for order in orders:
        queued.extend(
            notify(
                session,
                school_admins(session, order.school_id, district.id),
                message=OVERDUE,
                params={
                    "goods": order.goods_label(),
                    "year": order.year,
                    "term": {"msgid": TERM_LABELS[Term(order.term)]},
                    "date": order.settle_by.isoformat(),
                },
                severity=Severity.MAJOR,
                dedup_key=f"supply_order:{order.id}:overdue",
                now=now,
                link=f"/orders/{order.school.code}",
            )
        )
    return queued
