"""Label sheets: the domain picks the assets (by school, kind, place, a list, or only the
labels reissued after a revoked one) and says what each label shows; qr_labels draws them.

Choosing only reads. Drawing takes a while (about 10 ms a label), so doors choose, end their
read, and draw outside any transaction: a sheet never holds up a staff member's record.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.assets import KIND_LABELS, Asset, AssetKind, LabelPosition
from models.catalogue import in_brackets, translate
from models.messages import N_, Message
from models.org import Location, School
from models.people import Person, managed_schools
from qr_labels import LAYOUTS, FontMissing, LabelInfo, find_cjk_font, label_url
from qr_labels.sheet import Progress, write_label_pngs, write_sheet_pdf


class LabelsError(Exception):
    """Labels cannot be printed; `message` says what to fix, `field` which choice it is about."""

    def __init__(self, message: Message, field: str = "") -> None:
        super().__init__(message.msgid % message.params if message.params else message.msgid)
        self.message = message
        self.field = field


# What a bus's second label says it is, so it goes on at the back (and is scanned there).
REAR_MARK = N_("Rear of the bus")
# What a person does with a label; printed in the district's language and in English.
SCAN_CALL = N_("Scan to record")
SCAN_CALL_EN = "Scan to record"

LAYOUT_LABELS = {
    "3x8": N_("A4, 24 labels (3 × 8, 63.5 × 33.9 mm)"),
    "3x7": N_("A4, 21 labels (3 × 7, 63.5 × 38.1 mm)"),
    "2x5": N_("A4, 10 large labels (2 × 5, 99.1 × 57 mm) for buses and canteens"),
    "50x30mm": N_("Thermal printer, 50 × 30 mm, one label per page"),
    "40x30mm": N_("Thermal printer, 40 × 30 mm, one label per page"),
}
"""Every layout of LAYOUTS, as a person choosing one reads it."""
assert LAYOUT_LABELS.keys() == LAYOUTS.keys()


@dataclass(frozen=True)
class LabelChoice:
    """Which labels to print; every part given narrows the choice, none means all."""

    school_codes: tuple[str, ...] = ()
    kind: str = ""
    building: str = ""
    """A location's building, e.g. 教学楼一号楼: every asset placed in it."""
    asset_codes: tuple[str, ...] = ()
    reissued_only: bool = False
    """Only labels issued after a revoked one (lost, damaged or copied), to stick on anew."""


def scan_call(locale: str) -> str:
    """The call to scan, e.g. "扫码登记 / Scan to record"; English once in an English district."""
    text = translate(locale, SCAN_CALL)
    return text if text == SCAN_CALL_EN else f"{text} / {SCAN_CALL_EN}"


def label_info(asset: Asset, base_url: str, position: str = LabelPosition.FRONT) -> LabelInfo:
    """What one printed label shows: the QR with the scan URL, and the asset in its
    district's language; a rear label's name is marked 车尾."""
    label = asset.live_label(position)
    if label is None:
        raise LabelsError(Message(N_("asset %(code)s has no live label"), {"code": asset.code}))
    locale = asset.school.district.locale
    name = asset.name
    if position == LabelPosition.REAR:
        name = asset.name + in_brackets(translate(locale, REAR_MARK), locale)
    return LabelInfo(
        url=label_url(base_url, label.token),
        name=name,
        code=asset.code,
        school=asset.school.name,
        kind=translate(locale, KIND_LABELS[AssetKind(asset.kind)]),
        call=scan_call(locale),
    )


def _chosen_schools(session: Session, actor: Person | None, codes: Sequence[str]) -> list[School]:
    """The schools asked for among those the actor manages (all of them for the shell)."""
    if actor is None:
        schools = list(session.scalars(select(School).order_by(School.code)))
    else:
        schools = managed_schools(session, actor)
    if not codes:
        return schools
    by_code = {school.code.upper(): school for school in schools}
    chosen = []
    for code in codes:
        school = by_code.get(code.strip().upper())
        if school is None:
            # A school the person does not manage is not named: it is as unknown as a typo.
            raise LabelsError(
                Message(N_("no school with code '%(code)s'"), {"code": code.strip()}), "school"
            )
        chosen.append(school)
    return chosen


def _reissued(asset: Asset, position: str) -> bool:
    """The asset's live label at position replaced an earlier one that was revoked."""
    return any(
        label.revoked_at is not None and (label.position or LabelPosition.FRONT) == position
        for label in asset.labels
    )


def choose_labels(
    session: Session, choice: LabelChoice, *, base_url: str, actor: Person | None
) -> list[LabelInfo]:
    """The labels chosen, by school, kind and code, a bus's rear label right after its front
    one; `actor` None is the shell, which may print every school's labels."""
    if choice.kind and choice.kind not in KIND_LABELS:
        raise LabelsError(
            Message(
                N_("unknown kind %(kind)s; known: %(known)s"),
                {"kind": choice.kind, "known": ", ".join(KIND_LABELS)},
            ),
            "kind",
        )
    schools = _chosen_schools(session, actor, choice.school_codes)
    query = (
        select(Asset)
        .join(School, Asset.school_id == School.id)
        .where(Asset.school_id.in_([school.id for school in schools]), Asset.retired_at.is_(None))
        .order_by(School.code, Asset.kind, Asset.code)
        .options(selectinload(Asset.labels))
    )
    if choice.kind:
        query = query.where(Asset.kind == choice.kind)
    if choice.building.strip():
        query = query.join(Location, Asset.location_id == Location.id).where(
            Location.building == choice.building.strip()
        )
    codes = {code.strip().upper() for code in choice.asset_codes if code.strip()}
    assets = [asset for asset in session.scalars(query) if not codes or asset.code.upper() in codes]
    if codes:
        missing = sorted(codes - {asset.code.upper() for asset in assets})
        if missing:
            raise LabelsError(
                Message(
                    N_("no asset in use with code %(codes)s among the chosen ones"),
                    {"codes": ", ".join(missing)},
                ),
                "assets",
            )
    infos = []
    for asset in assets:
        for position in LabelPosition:
            if asset.live_label(position) is None:
                continue
            if choice.reissued_only and not _reissued(asset, position):
                continue
            infos.append(label_info(asset, base_url, position))
    if not infos:
        raise LabelsError(Message(N_("no labels match these choices")))
    return infos


def check_layout(layout: str) -> None:
    """Refuse a layout that is not one of LAYOUTS."""
    if layout not in LAYOUTS:
        raise LabelsError(
            Message(
                N_("unknown layout %(layout)s; known: %(known)s"),
                {"layout": layout, "known": ", ".join(LAYOUTS)},
            ),
            "layout",
        )


def label_font(font: str | None) -> Path:
    """The configured font, or the system's CJK font; refused when there is none."""
    try:
        return find_cjk_font(font or None)
    except FontMissing as exc:
        raise LabelsError(Message(str(exc))) from None


def labels_pdf(
    infos: Sequence[LabelInfo], layout: str, font_path: Path, progress: Progress | None = None
) -> bytes:
    """The chosen labels as one PDF in the layout; run outside any transaction."""
    check_layout(layout)
    out = io.BytesIO()
    write_sheet_pdf(infos, out, LAYOUTS[layout], font_path, progress)
    return out.getvalue()


def write_labels(
    session: Session,
    school_code: str | None,
    *,
    base_url: str,
    layout: str,
    font: str | None = None,
    kind: str | None = None,
    choice: LabelChoice | None = None,
    pdf: Path | None = None,
    png_dir: Path | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> str:
    """Write the sheet and/or PNGs (the scan address `base_url`, a layout of LAYOUTS, a font
    file or the system's CJK font) for the shell; returns a line saying what was written where.

    `school_code` and `kind` narrow `choice` (all of a school's labels when it is None)."""
    check_layout(layout)
    choice = choice or LabelChoice()
    if school_code:
        choice = LabelChoice(
            (school_code, *choice.school_codes),
            choice.kind,
            choice.building,
            choice.asset_codes,
            choice.reissued_only,
        )
    if kind:
        choice = LabelChoice(
            choice.school_codes, kind, choice.building, choice.asset_codes, choice.reissued_only
        )
    infos = choose_labels(session, choice, base_url=base_url, actor=None)
    font_path = label_font(font)
    written = []
    if pdf is not None:
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pages = write_sheet_pdf(infos, pdf, LAYOUTS[layout], font_path, progress, workers)
        written.append(f"{pdf} ({pages} page(s))")
    if png_dir is not None:
        paths = write_label_pngs(infos, png_dir, LAYOUTS[layout], font_path, progress)
        written.append(f"{len(paths)} PNG file(s) in {png_dir}")
    schools = sorted({info.school for info in infos})
    return f"{len(infos)} label(s) for {', '.join(schools)}: " + "; ".join(written)
