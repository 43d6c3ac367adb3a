"""The Telegram channel: a chat's id is its address; the sender drains the channel's outbox."""

import os

# Opt in now to python-telegram-bot's coming behaviour: durations such as a 429's
# retry_after are timedeltas (Houqin reads both forms); without this it warns on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "1")

CHANNEL = "telegram"
