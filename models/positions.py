"""Where a school stands and where a phone was when its record was filed: the distance
between the two, on the Earth's surface, flags a record filed far from its school."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models.audit import audit, differences, fields_of
from models.messages import N_, Message, SubmissionInvalid
from models.org import School
from models.people import Person
from models.suppliers import RegisterRefused, is_district_admin

# The mean radius of the Earth, in metres (what the haversine formula takes).
EARTH_RADIUS_M = 6_371_000
RADIUS_MIN_M = 50
RADIUS_MAX_M = 5000
# A phone reporting an accuracy worse than this knows nothing useful about where it is.
ACCURACY_MAX_M = 100_000


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points (degrees), in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _number(value: str) -> float | None:
    """A finite number from a form, or None."""
    try:
        number = float(value.strip().replace("，", ".").replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


POSITION_FIELDS = ("latitude", "longitude", "radius_m")


def set_school_position(
    session: Session,
    actor: Person,
    school: School,
    latitude: str,
    longitude: str,
    radius: str,
    *,
    now: datetime,
) -> None:
    """The district's administrators say where a school stands and the radius around it
    within which records are filed (both coordinates empty: not set)."""
    if not is_district_admin(actor, school.district_id):
        raise RegisterRefused(Message(N_("Only the district's administrators can do this.")))
    errors: dict[str, Message] = {}
    lat = _number(latitude) if latitude.strip() else None
    lon = _number(longitude) if longitude.strip() else None
    if latitude.strip() and (lat is None or not -90 <= lat <= 90):
        errors["latitude"] = Message(N_("Enter a latitude between -90 and 90."))
    if longitude.strip() and (lon is None or not -180 <= lon <= 180):
        errors["longitude"] = Message(N_("Enter a longitude between -180 and 180."))
    if bool(latitude.strip()) != bool(longitude.strip()):
        missing = "longitude" if latitude.strip() else "latitude"
        errors.setdefault(missing, Message(N_("Enter both the latitude and the longitude.")))
    metres = _number(radius) if radius.strip() else float(school.radius_m)
    if metres is None or metres != int(metres) or not RADIUS_MIN_M <= metres <= RADIUS_MAX_M:
        errors["radius_m"] = Message(N_("Enter a radius in whole metres between 50 and 5000."))
    if errors:
        raise SubmissionInvalid(errors)
    assert metres is not None
    was = fields_of(school, POSITION_FIELDS)
    school.latitude, school.longitude, school.radius_m = lat, lon, int(metres)
    session.flush()
    before, after = differences(was, fields_of(school, POSITION_FIELDS))
    if before or after:
        audit(session, actor, "school.position_set", school, before, after, now=now)


@dataclass(frozen=True)
class PhonePosition:
    """Where the phone said it was, and within how many metres."""

    latitude: float
    longitude: float
    accuracy_m: int


def phone_position(
    latitude: str | None, longitude: str | None, accuracy: str | None
) -> PhonePosition | None:
    """The phone's position from the form's hidden fields; None when any is missing or not
    believable (the person may refuse: a record is never refused for it)."""
    lat = _number(latitude or "")
    lon = _number(longitude or "")
    acc = _number(accuracy or "")
    if lat is None or lon is None or acc is None:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= acc <= ACCURACY_MAX_M):
        return None
    return PhonePosition(lat, lon, math.ceil(acc))


def school_distance(school: School, position: PhonePosition) -> int | None:
    """How far, in whole metres, the phone was from the school; None when it has no position."""
    if school.latitude is None or school.longitude is None:
        return None
    return round(
        distance_m(school.latitude, school.longitude, position.latitude, position.longitude)
    )
