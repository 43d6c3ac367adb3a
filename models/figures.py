"""What a record's numbers add up to, shown beside it: a meter's consumption since the reading
before, a class's milk subscription rate, an extinguisher's next service and scrap dates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from models.extinguishers import record_lives
from models.messages import Message
from models.meters import METER_READING, consumption_for
from models.milk import MILK_SUBSCRIPTION, rates_for

if TYPE_CHECKING:
    from models.records import Record, RecordLine

# The checklists whose records have a figure of their own, as `record_figures` finds them (an
# extinguisher's dates are its asset's, whatever checklist its records are of).
FIGURE_CHECKLISTS = frozenset({METER_READING, MILK_SUBSCRIPTION})


def record_figures(session: Session, records: Sequence[Record]) -> dict[int, Message]:
    """A message per record that has a figure, by record id."""
    figures = {rid: c.message() for rid, c in consumption_for(session, records).items()}
    figures.update({rid: rate.message() for rid, rate in rates_for(records).items()})
    figures.update(record_lives(session, records))
    return figures


def records_with_own_figures(session: Session, lines: Sequence[RecordLine]) -> list[Record]:
    """The records listed in `lines` whose checklist has a figure of its own, for
    `record_figures`; none is read when no line is of such a checklist."""
    from models.records import Record  # it imports this module

    ids = [line.id for line in lines if line.template_key in FIGURE_CHECKLISTS]
    if not ids:
        return []
    return list(
        session.scalars(
            select(Record)
            .where(Record.id.in_(ids))
            # A figure reads the answers and the checklist (joined), not who filed or photos.
            .options(
                lazyload(Record.submitted_by),
                lazyload(Record.photos),
                lazyload(Record.same_photo_as),
                lazyload(Record.changed_from),
            )
            .order_by(Record.submitted_at, Record.id)
        )
    )
