"""Times the school score of all 200 schools of the sweep benchmark's district for a term
(a year of history, 100 assets a school): `score_seconds_200_schools_term`, the ranking as
the district's page computes it, beside the issue's 1 s floor. Also timed with every
indicator weighted (the defaults leave the signed reports out, and so skip counting them).
Run with `python -m bench.score`."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bench.sweep import MOMENT, ZONE, build_world
from models.db import make_engine, make_session_factory
from models.org import District
from models.people import Person, Role, RoleGrant
from models.periods import Period, PeriodKind
from models.score import Scheme, district_ranking
from settings import ScoreSettings

RUNS = 5
FLOOR_SECONDS = 1.0


def _defaults() -> Scheme:
    config = ScoreSettings()
    return Scheme(
        {k.removeprefix("weight_"): v for k, v in vars(config).items() if k.startswith("weight_")},
        {"A": config.band_a, "B": config.band_b, "C": config.band_c},
        config.drill_every_days,
    )


def run(root: Path | None = None) -> list[str]:
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        world = build_world(Path(tmp) / "score-1y.db", 1)
        engine = make_engine(f"sqlite:///{world.path}")
        try:
            factory = make_session_factory(engine)
            # The autumn term (1 August to 31 January) the sweep benchmark's moment ends.
            day = MOMENT.astimezone(ZONE).date()
            year = day.year if day.month >= 8 else day.year - 1
            period = Period(PeriodKind.TERM, date(year, 8, 1), date(year + 1, 1, 31))
            every = _defaults()
            every = Scheme({k: v or 10 for k, v in every.weights.items()}, every.bands)
            seconds, all_weighted = [], []
            schools = 0
            for _ in range(RUNS + 1):
                for scheme, timings in ((_defaults(), seconds), (every, all_weighted)):
                    with factory() as session:
                        viewer = session.scalars(
                            select(Person)
                            .join(RoleGrant)
                            .where(RoleGrant.role == Role.DISTRICT_ADMIN)
                            .limit(1)
                        ).one()
                        district = session.get_one(District, 1)
                        started = time.perf_counter()
                        ranked = district_ranking(session, viewer, district, period, scheme, MOMENT)
                        timings.append(time.perf_counter() - started)
                        schools = len(ranked)
        finally:
            engine.dispose()
    median, every_median = statistics.median(seconds[1:]), statistics.median(all_weighted[1:])
    return [
        f"score_seconds_200_schools_term: {median:.3f} (floor {FLOOR_SECONDS:.1f})",
        f"score_seconds_200_schools_term_every_indicator: {every_median:.3f}",
        f"score_schools_ranked: {schools}, term {period.start} to {period.end}, "
        f"{world.records} records in the world",
    ]


def main() -> None:
    for line in run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
