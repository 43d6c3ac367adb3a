"""The Telegram channel: a chat's id is its address; the sender drains the channel's outbox."""

CHANNEL = "telegram"
