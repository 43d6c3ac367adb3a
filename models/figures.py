"""What a record's numbers add up to, shown beside it: a meter's consumption since the reading
before, a class's milk subscription rate, an extinguisher's next service and scrap dates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from models.extinguishers import record_lives
from models.messages import Message
from models.meters import consumption_for
from models.milk import rates_for

if TYPE_CHECKING:
    from models.records import Record


def record_figures(session: Session, records: Sequence[Record]) -> dict[int, Message]:
    """A message per record that has a figure, by record id."""
    figures = {rid: c.message() for rid, c in consumption_for(session, records).items()}
    figures.update({rid: rate.message() for rid, rate in rates_for(records).items()})
    figures.update(record_lives(session, records))
    return figures
