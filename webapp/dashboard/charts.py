"""Charts drawn on the server as inline SVG: no library, no request elsewhere, and every bar
carries its number as text, so a phone, a screen reader and a printer all read the same."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import format_date, gettext
from markupsafe import Markup, escape

from models.catalogue import in_brackets
from models.dashboard import SchoolFigures, Week
from models.energy import MonthlyUse, year_before
from webapp.i18n import current_locale

ON_TIME, LATE, MISSED = "#2e7d32", "#f0a500", "#c62828"
WIDTH = 360
COMPARED = 15


def _text(x: float, y: float, text: object, **attrs: object) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.0f}" y="{y:.0f}"{extra}>{escape(text)}</text>'


def _legend(y: float) -> list[str]:
    parts, x = [], 4.0
    for colour, label in (
        (ON_TIME, gettext("On time")),
        (LATE, gettext("Late")),
        (MISSED, gettext("Missed")),
    ):
        parts.append(f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="12" height="12" fill="{colour}"/>')
        parts.append(_text(x + 16, y, label))
        x += 28 + (13 if label.isascii() else 12) * len(label) * (0.6 if label.isascii() else 1)
    return parts


def _svg(height: float, label: str, parts: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-label="{escape(label)}" font-size="12" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(parts)}</svg>"
    )


def trend_chart(weeks: Sequence[Week]) -> Markup:
    """Stacked bars, one per week (on time, late, missed), the total above each and the week's
    first day below it."""
    label = gettext("Duties by week: done on time, late and missed")
    top, bottom, height = 34.0, 22.0, 200.0
    plot = height - top - bottom
    most = max((w.on_time + w.late + w.missed for w in weeks), default=0) or 1
    slot = WIDTH / max(len(weeks), 1)
    parts = _legend(14)
    for n, week in enumerate(weeks):
        x, y = n * slot + slot * 0.15, height - bottom
        for value, colour in ((week.on_time, ON_TIME), (week.late, LATE), (week.missed, MISSED)):
            h = plot * value / most
            if value:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y - h:.1f}" width="{slot * 0.7:.1f}" '
                    f'height="{h:.1f}" fill="{colour}"><title>{value}</title></rect>'
                )
            if h >= 14:  # the segment's own number inside it, where it fits
                parts.append(
                    _text(x + slot * 0.35, y - h / 2 + 4, value, text_anchor="middle", fill="#fff")
                )
            y -= h
        total = week.on_time + week.late + week.missed
        centre = x + slot * 0.35
        parts.append(_text(centre, y - 3, total, text_anchor="middle"))
        day = format_date(week.first, "M/d")
        parts.append(_text(centre, height - 6, day, text_anchor="middle", fill="#5f6b76"))
    return _svg(height, label, parts)


def comparison_chart(figures: Sequence[SchoolFigures], limit: int = COMPARED) -> Markup:
    """One bar per school, the worst on-time rate first: the school's name, its bar and its
    per cent (and how many duties fell due), so the district sees whom to call."""
    label = gettext("On-time rate by school, worst first")
    rows = sorted(figures, key=lambda f: (f.rate, -f.fell_due, f.school.code))[:limit]
    row, name_width = 26.0, 120.0
    bar_width = WIDTH - name_width - 64
    parts = []
    for n, f in enumerate(rows):
        y = n * row + 4
        name = f.school.name if len(f.school.name) <= 8 else f.school.name[:7] + "…"
        parts.append(_text(0, y + 15, name))
        colour = ON_TIME if f.rate >= 90 else LATE if f.rate >= 70 else MISSED
        # A school where nothing fell due has no rate: an empty bar and a dash, not 100 %.
        filled = bar_width * f.rate / 100 if f.fell_due else 0
        parts.append(
            f'<rect x="{name_width}" y="{y + 3}" width="{bar_width:.0f}" height="16" '
            f'fill="#e6ebf0"/><rect x="{name_width}" y="{y + 3}" '
            f'width="{filled:.1f}" height="16" fill="{colour}"/>'
        )
        rate, due = (f"{f.rate}%", f.fell_due) if f.fell_due else ("—", 0)
        shown = rate + in_brackets(str(due), current_locale())
        parts.append(_text(name_width + bar_width + 4, y + 15, shown))
    return _svg(max(len(rows), 1) * row + 8, label, parts)


THIS_YEAR, LAST_YEAR = "#1565c0", "#b0bec5"


def energy_chart(use: MonthlyUse, months: Sequence[date], unit: str) -> Markup:
    """One pair of bars per month: this year's use (its amount above it) and, beside it in
    grey, the same month's a year before, so a rise shows at a glance."""
    label = gettext("Use by month (%(unit)s), beside the same month last year", unit=unit)
    top, bottom, height = 34.0, 22.0, 200.0
    plot = height - top - bottom
    pairs = [(use.used(m), use.used(year_before(m))) for m in months]
    most = max((v or 0 for pair in pairs for v in pair), default=0) or 1
    slot = WIDTH / max(len(months), 1)
    parts = [
        f'<rect x="4" y="4" width="12" height="12" fill="{THIS_YEAR}"/>',
        _text(20, 14, gettext("This year")),
        f'<rect x="120" y="4" width="12" height="12" fill="{LAST_YEAR}"/>',
        _text(136, 14, gettext("A year before")),
    ]
    for n, (month, (now, then)) in enumerate(zip(months, pairs, strict=True)):
        x, base = n * slot + slot * 0.1, height - bottom
        for offset, value, colour in ((0.4, then, LAST_YEAR), (0.0, now, THIS_YEAR)):
            if value:
                h = plot * value / most
                parts.append(
                    f'<rect x="{x + slot * offset:.1f}" y="{base - h:.1f}" '
                    f'width="{slot * 0.4:.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{value:g}</title></rect>"
                )
        if now is not None:
            h = plot * now / most
            parts.append(_text(x + slot * 0.2, base - h - 3, f"{now:g}", text_anchor="middle"))
        parts.append(
            _text(x + slot * 0.4, height - 6, format_date(month, "M"), text_anchor="middle")
        )
    return _svg(height, label, parts)
