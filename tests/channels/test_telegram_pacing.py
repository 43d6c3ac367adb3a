"""Telegram's overall limit holds where Telegram counts, also when the machine is too busy to
put calls on the wire when the pacing let them go."""

from __future__ import annotations

import asyncio

from channels.telegram.pacing import AnsweredWindow

SLOTS = 5
WINDOW = 0.2  # seconds; Telegram's is 1, shortened so the test takes well under a second


async def _late_calls(window: AnsweredWindow, count: int) -> tuple[list[float], int]:
    """`count` calls that all stall before they leave (a loaded machine) until the first
    window has passed; returns when each reached "Telegram", and the most held at once."""
    loop = asyncio.get_running_loop()
    leaves = asyncio.Event()
    loop.call_later(WINDOW * 1.5, leaves.set)
    arrivals: list[float] = []
    held = most = 0

    async def call() -> None:
        nonlocal held, most
        async with window.slot():
            held += 1
            most = max(most, held)
            await leaves.wait()
            arrivals.append(loop.time())
            held -= 1

    await asyncio.gather(*(call() for _ in range(count)))
    return arrivals, most


def test_calls_that_leave_late_never_reach_telegram_more_than_the_limit_in_a_window() -> None:
    arrivals, most = asyncio.run(_late_calls(AnsweredWindow(SLOTS, WINDOW), 3 * SLOTS))

    assert len(arrivals) == 3 * SLOTS
    assert most == SLOTS
    busiest = max(sum(a <= b < a + WINDOW for b in arrivals) for a in arrivals)
    assert busiest <= SLOTS
