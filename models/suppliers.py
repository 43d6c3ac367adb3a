"""The district's designated suppliers: who may supply which goods, by form or spreadsheet."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.audit import audit, differences, fields_of
from models.base import Base
from models.catalogue import LOCALES, join_list
from models.import_kinds import Column, ImportContext, ImportKind, Row
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.org import District
from models.people import Person
from models.phones import normalise_contact_phone
from models.spreadsheets import alias_choices, aliases, header_key

if TYPE_CHECKING:
    from models.documents import Document


# The goods a district designates suppliers for (source points 7–8, 17–20).
SUPPLY_CATEGORIES = {
    "rice": N_("Rice"),
    "flour": N_("Flour"),
    "oil": N_("Cooking oil"),
    "soy_sauce": N_("Soy sauce"),
    "vinegar": N_("Vinegar"),
    "meat": N_("Meat"),
    "vegetables": N_("Vegetables"),
    "bedding": N_("Bedding"),
    "water": N_("Drinking water"),
    "uniforms": N_("Uniforms"),
    "books": N_("Exercise books"),
    # 学生饮用奶: only producers approved for the national student milk programme.
    "milk": N_("Student milk"),
    # 餐具、饮具集中消毒服务单位 (食品安全法 §58): a canteen's outsourced tableware disinfection.
    "tableware_disinfection": N_("Tableware disinfection service"),
    "other": N_("Other goods"),
}

# Goods that are food: their supplier holds a food licence (食品经营许可证 or 食品生产许可证);
# the others a business licence (营业执照). "other" (and an item naming no category) takes either.
FOOD_CATEGORIES = frozenset(
    {"rice", "flour", "oil", "soy_sauce", "vinegar", "meat", "vegetables", "water", "milk"}
)


def licence_need(category: str | None) -> str:
    """Which licence goods of this category need: "food", "business", or "any" of them."""
    if category in FOOD_CATEGORIES:
        return "food"
    if category is None or category == "other":
        return "any"
    return "business"


class Supplier(Base):
    """An enterprise the district designated, for the categories of goods it is approved for."""

    __tablename__ = "supplier"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    categories: Mapped[list[Any]] = mapped_column(default=list)
    designated_brands: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    district: Mapped[District] = relationship()
    documents: Mapped[list[Document]] = relationship(
        back_populates="supplier", order_by="Document.expires_on"
    )

    @property
    def current_documents(self) -> list[Document]:
        return [d for d in self.documents if d.replaced_by_id is None]


class RegisterRefused(DomainError):
    """A register (suppliers, documents) refuses this person this change."""


def is_district_admin(person: Person, district_id: int) -> bool:
    return person.is_district_admin_of(district_id)


def viewer_district_ids(person: Person) -> set[int]:
    """Every district where the person holds any role: they may read its supplier register."""
    return {g.district_id for g in person.grants}


def _clean_list(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


DUPLICATE_SUPPLIER = N_("A supplier with this name is already registered.")


def _in_list_order(categories: list[str]) -> list[str]:
    """Categories in the fixed list's order, so every supplier reads the same way."""
    return [c for c in SUPPLY_CATEGORIES if c in categories]


def _check_supplier(
    session: Session,
    district_id: int,
    *,
    name: str,
    contact: str,
    phone: str,
    categories: list[str],
    designated_brands: list[str],
    supplier_id: int | None = None,
) -> dict[str, Message]:
    errors: dict[str, Message] = {}
    if not name:
        errors["name"] = Message(N_("Enter the supplier's name."))
    elif len(name) > 200:
        errors["name"] = Message(N_("At most %(count)d characters."), {"count": 200})
    else:
        clash = select(Supplier.id).where(
            Supplier.district_id == district_id, func.lower(Supplier.name) == name.lower()
        )
        if supplier_id is not None:
            clash = clash.where(Supplier.id != supplier_id)
        if session.scalar(clash) is not None:
            errors["name"] = Message(DUPLICATE_SUPPLIER)
    if len(contact) > 100:
        errors["contact"] = Message(N_("At most %(count)d characters."), {"count": 100})
    if phone and normalise_contact_phone(phone) is None:
        errors["phone"] = Message(
            N_(
                "Enter a mobile number (11 digits starting with 1) "
                "or a landline with its area code, like 024-23456789."
            )
        )
    if not categories:
        errors["categories"] = Message(N_("Choose at least one category of goods."))
    elif any(c not in SUPPLY_CATEGORIES for c in categories):
        errors["categories"] = Message(N_("Choose categories from the list."))
    if any(len(b) > 100 for b in designated_brands):
        errors["designated_brands"] = Message(
            N_("Each brand at most %(count)d characters."), {"count": 100}
        )
    return errors


def _clean_phone(phone: str) -> str:
    """A supplier's phone as one spelling (a mobile as its 11 digits); kept as typed when it
    is not a phone number, for the check to name."""
    return normalise_contact_phone(phone) or phone.strip()


def _refuse_unless_district_admin(actor: Person, district_id: int) -> None:
    if not is_district_admin(actor, district_id):
        raise RegisterRefused(Message(N_("Only a district administrator can manage suppliers.")))


def add_supplier(
    session: Session,
    actor: Person,
    district_id: int,
    *,
    name: str,
    categories: Iterable[str],
    contact: str = "",
    phone: str = "",
    designated_brands: Iterable[str] = (),
    now: datetime,
) -> Supplier:
    """A supplier the district designated, approved for the given categories of goods."""
    _refuse_unless_district_admin(actor, district_id)
    values: dict[str, Any] = {
        "name": name.strip(),
        "contact": contact.strip(),
        "phone": _clean_phone(phone),
        "categories": _clean_list(categories),
        "designated_brands": _clean_list(designated_brands),
    }
    errors = _check_supplier(session, district_id, **values)
    if errors:
        raise SubmissionInvalid(errors)
    values["categories"] = _in_list_order(values["categories"])
    supplier = Supplier(district_id=district_id, active=True, created_at=now, **values)
    _save_supplier(session, supplier)
    added = fields_of(supplier, SUPPLIER_FIELDS)
    audit(session, actor, "supplier.created", supplier, {}, added, now=now)
    return supplier


# What a supplier's audit entries compare; `active` is named "approved" (a login's is "active").
SUPPLIER_FIELDS = ("name", "contact", "phone", "categories", "designated_brands")


def _supplier_fields(supplier: Supplier) -> dict[str, Any]:
    return {**fields_of(supplier, SUPPLIER_FIELDS), "approved": supplier.active}


def _save_supplier(
    session: Session, supplier: Supplier, changes: Mapping[str, Any] | None = None
) -> None:
    """Flush; the same name saved by someone else a moment ago is a message, not a crash.

    The changes are made inside the savepoint, so a refusal leaves the row as it was and the
    rest of the transaction usable."""
    try:
        with session.begin_nested():
            for key, value in (changes or {}).items():
                setattr(supplier, key, value)
            session.add(supplier)
    except IntegrityError:
        raise SubmissionInvalid({"name": Message(DUPLICATE_SUPPLIER)}) from None


def update_supplier(
    session: Session,
    actor: Person,
    supplier: Supplier,
    *,
    name: str,
    categories: Iterable[str],
    contact: str = "",
    phone: str = "",
    designated_brands: Iterable[str] = (),
    active: bool = True,
    now: datetime,
) -> Supplier:
    _refuse_unless_district_admin(actor, supplier.district_id)
    values: dict[str, Any] = {
        "name": name.strip(),
        "contact": contact.strip(),
        "phone": _clean_phone(phone),
        "categories": _clean_list(categories),
        "designated_brands": _clean_list(designated_brands),
    }
    errors = _check_supplier(session, supplier.district_id, supplier_id=supplier.id, **values)
    if errors:
        raise SubmissionInvalid(errors)
    values["categories"] = _in_list_order(values["categories"])
    was = _supplier_fields(supplier)
    _save_supplier(session, supplier, {**values, "active": active})
    before, after = differences(was, _supplier_fields(supplier))
    if before or after:
        audit(session, actor, "supplier.edited", supplier, before, after, now=now)
    return supplier


def suppliers_for(
    session: Session, district_id: int, category: str | None = None, *, active_only: bool = True
) -> list[Supplier]:
    """The district's suppliers by name; with a category, only those approved for it."""
    query = select(Supplier).where(Supplier.district_id == district_id)
    if active_only:
        query = query.where(Supplier.active)
    suppliers = session.scalars(query.order_by(Supplier.name, Supplier.id))
    # Categories are a short JSON list: filtered here so SQLite and PostgreSQL agree.
    return [s for s in suppliers if category is None or category in s.categories]


def is_approved(supplier: Supplier, category: str) -> bool:
    """May goods of this category be bought from this supplier?"""
    return supplier.active and category in supplier.categories


def visible_supplier(session: Session, viewer: Person, supplier_id: int) -> Supplier | None:
    return session.scalar(
        select(Supplier).where(
            Supplier.id == supplier_id,
            Supplier.district_id.in_(sorted(viewer_district_ids(viewer))),
        )
    )


# --- importing suppliers from a spreadsheet ----------------------------------------------

SUPPLY_CATEGORY_ALIASES: dict[str, str] = aliases(
    {
        "大米": "rice",
        "米": "rice",
        "面粉": "flour",
        "面": "flour",
        "食用油": "oil",
        "油": "oil",
        "酱油": "soy_sauce",
        "醋": "vinegar",
        "食醋": "vinegar",
        "肉类": "meat",
        "肉": "meat",
        "猪肉": "meat",
        "蔬菜": "vegetables",
        "菜": "vegetables",
        "床上用品": "bedding",
        "被褥": "bedding",
        "饮用水": "water",
        "桶装水": "water",
        "水": "water",
        "校服": "uniforms",
        "作业本": "books",
        "餐具集中消毒服务": "tableware_disinfection",
        "餐具消毒": "tableware_disinfection",
        "集中消毒": "tableware_disinfection",
        "练习本": "books",
        "其他": "other",
        "其它": "other",
        **{key: key for key in SUPPLY_CATEGORIES},
        **{label: key for key, label in SUPPLY_CATEGORIES.items()},
    }
)
_LIST_SEPARATORS = re.compile(r"[,，、;；/|\n]+")

SUPPLIER_COLUMNS = (
    Column("name", ("名称", "name", "供应商", "供货单位", "单位名称"), required=True),
    Column("categories", ("准入品类", "categories", "品类", "供货品类"), required=True),
    Column("designated_brands", ("指定品牌", "designated_brands", "品牌", "brands")),
    Column("contact", ("联系人", "contact")),
    Column("phone", ("电话", "phone", "联系电话", "手机")),
)


@dataclass(frozen=True)
class SupplierRow:
    name: str
    categories: list[str]
    designated_brands: list[str]
    contact: str
    phone: str


def split_list(text: str) -> list[str]:
    """Brands or categories typed in one field (a form's text area, a spreadsheet cell):
    separated by lines, commas, 、, semicolons, / or |; blanks and repeats dropped."""
    return _clean_list(_LIST_SEPARATORS.split(text))


def check_supplier_row(
    session: Session, context: ImportContext, row: int, values: Row
) -> SupplierRow:
    """One supplier row: a new name, categories from the list (in Chinese or English)."""
    names = split_list(values.get("categories", ""))
    categories = [SUPPLY_CATEGORY_ALIASES.get(header_key(n), "") for n in names]
    unknown = [n for n, c in zip(names, categories, strict=True) if not c]
    supplier = SupplierRow(
        name=values.get("name", "").strip(),
        categories=_in_list_order([c for c in categories if c]),
        designated_brands=split_list(values.get("designated_brands", "")),
        contact=values.get("contact", "").strip(),
        phone=_clean_phone(values.get("phone", "")),
    )
    errors = _check_supplier(session, context.school.district_id, **vars(supplier))
    if unknown:
        errors["categories"] = Message(
            N_("Unknown category %(value)s. Use one of: %(choices)s."),
            {
                "value": {locale: join_list(unknown, locale) for locale in LOCALES},
                "choices": alias_choices(SUPPLY_CATEGORY_ALIASES),
            },
        )
    if supplier.name and "name" not in errors:
        repeated = context.repeated("name", supplier.name, row, key=supplier.name.lower())
        if repeated is not None:
            errors["name"] = repeated
    if errors:
        raise SubmissionInvalid(errors)
    return supplier


def save_supplier_row(session: Session, context: ImportContext, row: SupplierRow) -> None:
    add_supplier(session, context.actor, context.school.district_id, now=context.now, **vars(row))


SUPPLIER_IMPORT = ImportKind(
    key="suppliers",
    label=N_("Suppliers"),
    columns=SUPPLIER_COLUMNS,
    check_row=check_supplier_row,
    save_row=save_supplier_row,
    allowed=lambda actor, school: is_district_admin(actor, school.district_id),
    refusal=N_("Only a district administrator can manage suppliers."),
)
