"""python-telegram-bot's persistence, kept in Houqin's database (models.conversations).

Only what a chat is in the middle of is kept: its chat data (a report's asset, description
and photos, by Telegram file id) and the state of its conversations, so /report carries on
after the bot restarts. The bot's own data (its door) is built afresh at every start.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import BasePersistence, PersistenceInput

from models.clock import Clock
from models.conversations import keep_state, states_in
from models.unit_of_work import unit_of_work

T = TypeVar("T")
# As python-telegram-bot types them: a conversation's key (the chat's id) and its states.
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CHAT_DATA = "telegram:chat"
# How often changed chat data and conversation states are written, in seconds.
WRITE_EVERY = 1.0


def _conversations(name: str) -> str:
    return f"telegram:conversation:{name}"


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Chat data and conversations in the conversation_state table, as JSON."""

    def __init__(
        self, factory: sessionmaker[Session], clock: Clock, update_interval: float = WRITE_EVERY
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.factory = factory
        self.clock = clock

    async def _db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with unit_of_work(self.factory) as session:
                return work(session)

        return await asyncio.to_thread(run)

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        kept = await self._db(lambda session: states_in(session, CHAT_DATA))
        return {int(key): dict(value) for key, value in kept.items()}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        now = self.clock.now()
        value = dict(data) or None
        await self._db(lambda s: keep_state(s, CHAT_DATA, str(chat_id), value, now=now))

    async def drop_chat_data(self, chat_id: int) -> None:
        now = self.clock.now()
        await self._db(lambda s: keep_state(s, CHAT_DATA, str(chat_id), None, now=now))

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """The bot is the only writer: what it holds is what is kept."""

    async def get_conversations(self, name: str) -> ConversationDict:
        kept = await self._db(lambda session: states_in(session, _conversations(name)))
        return {tuple(json.loads(key)): value["state"] for key, value in kept.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        now = self.clock.now()
        value = None if new_state is None else {"state": new_state}
        scope, written = _conversations(name), json.dumps(list(key))
        await self._db(lambda s: keep_state(s, scope, written, value, now=now))

    async def flush(self) -> None:
        """Every change was written when it was handed over."""

    # What is not kept: the bot's data is rebuilt at start, users' data is not used.
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        pass

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        pass

    async def update_callback_data(self, data: Any) -> None:
        pass

    async def drop_user_data(self, user_id: int) -> None:
        pass

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        pass
