"""Label sheets for a school: the domain picks the assets and says what each label shows;
qr_labels draws them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import KIND_LABELS, Asset, AssetKind, LabelPosition, labelled_assets
from models.catalogue import in_brackets, translate
from models.messages import N_
from models.org import School
from qr_labels import LAYOUTS, FontMissing, LabelInfo, find_cjk_font, label_url
from qr_labels.sheet import write_label_pngs, write_sheet_pdf


class LabelsError(Exception):
    """Labels cannot be printed; the message says what to fix."""


# What a bus's second label says it is, so it goes on at the back (and is scanned there).
REAR_MARK = N_("Rear of the bus")


def label_info(asset: Asset, base_url: str, position: str = LabelPosition.FRONT) -> LabelInfo:
    """What one printed label shows: the QR with the scan URL, and the asset in its
    district's language; a rear label's name is marked 车尾."""
    label = asset.live_label(position)
    if label is None:
        raise LabelsError(f"asset {asset.code} has no live label")
    locale = asset.school.district.locale
    name = asset.name
    if position == LabelPosition.REAR:
        name = asset.name + in_brackets(translate(locale, REAR_MARK), locale)
    return LabelInfo(
        url=label_url(base_url, label.token),
        name=name,
        code=asset.code,
        school=asset.school.name,
        kind=translate(asset.school.district.locale, KIND_LABELS[AssetKind(asset.kind)]),
    )


def label_infos(
    session: Session, base_url: str, school: School, kind: str | None
) -> list[LabelInfo]:
    """Each asset's label, a bus's rear label right after its front one."""
    infos = []
    for asset in labelled_assets(session, school, kind):
        infos.append(label_info(asset, base_url))
        if asset.rear_label is not None:
            infos.append(label_info(asset, base_url, LabelPosition.REAR))
    return infos


def write_labels(
    session: Session,
    school_code: str,
    *,
    base_url: str,
    layout: str,
    font: str | None = None,
    kind: str | None = None,
    pdf: Path | None = None,
    png_dir: Path | None = None,
) -> str:
    """Write the sheet and/or PNGs (the scan address `base_url`, a layout of LAYOUTS, a font
    file or the system's CJK font); returns a line saying what was written where."""
    school = session.scalar(select(School).where(School.code == school_code))
    if school is None:
        raise LabelsError(f"no school with code {school_code!r}")
    if kind is not None and kind not in KIND_LABELS:
        raise LabelsError(f"unknown kind {kind!r}; known: {', '.join(KIND_LABELS)}")
    if layout not in LAYOUTS:
        raise LabelsError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    infos = label_infos(session, base_url, school, kind)
    if not infos:
        raise LabelsError(
            f"school {school_code} has no labelled assets" + (f" of kind {kind}" if kind else "")
        )
    try:
        font_path = find_cjk_font(font or None)
    except FontMissing as exc:
        raise LabelsError(str(exc)) from None
    written = []
    if pdf is not None:
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pages = write_sheet_pdf(infos, pdf, LAYOUTS[layout], font_path)
        written.append(f"{pdf} ({pages} page(s))")
    if png_dir is not None:
        paths = write_label_pngs(infos, png_dir, LAYOUTS[layout], font_path)
        written.append(f"{len(paths)} PNG file(s) in {png_dir}")
    return f"{len(infos)} label(s) for {school.name}: " + "; ".join(written)
