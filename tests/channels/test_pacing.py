"""The per-recipient pacing every sender keeps, on a clock the test moves."""

from __future__ import annotations

from channels.pacing import RecipientPacing


class Moment:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_recipients_window_holds_its_messages_and_frees_as_the_oldest_passes() -> None:
    moment = Moment()
    pacing: RecipientPacing[str] = RecipientPacing(3, 60.0, monotonic=moment)
    for _ in range(3):
        pacing.sent("ZhangSan")
        moment.now += 10

    assert pacing.recent("ZhangSan") == 3
    assert pacing.wait("ZhangSan") == 30.0  # the first went at 100, it passes at 160
    assert pacing.wait("ZhangSan", 2) == 40.0
    assert pacing.wait("LiSi") == 0.0
    moment.now = 160.0
    assert pacing.recent("ZhangSan") == 2 and pacing.wait("ZhangSan") == 0.0


def test_one_per_interval_spaces_each_recipient_by_its_own_interval() -> None:
    moment = Moment()
    pacing: RecipientPacing[int] = RecipientPacing(
        1, lambda chat: 3.0 if chat < 0 else 1.0, monotonic=moment
    )
    pacing.sent(9000)
    pacing.sent(-100)
    moment.now += 0.5

    assert pacing.wait(9000) == 0.5
    assert pacing.wait(-100) == 2.5


def test_recipients_whose_window_passed_are_forgotten_unless_busy() -> None:
    moment = Moment()
    pacing: RecipientPacing[int] = RecipientPacing(1, 1.0, monotonic=moment)
    for chat in (1, 2, 3):
        pacing.sent(chat)
    moment.now += 2
    pacing.sent(4)

    pacing.forget_idle(busy=lambda chat: chat == 2)

    assert len(pacing) == 2 and pacing.wait(4) == 1.0
