"""The one error handler: log what failed with its traceback, then answer the person politely."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import NetworkError, TelegramError

from bot.door import Context, locale_of, reader_locale, reply
from models.catalogue import translate
from models.messages import N_

log = logging.getLogger(__name__)

FAILED = N_("Something went wrong and nothing was saved. Please try again.")


async def on_error(update: object, context: Context) -> None:
    """Every handler's failure ends here; its unit of work has already been rolled back."""
    if update is None and isinstance(context.error, NetworkError):
        return  # polling could not reach Telegram: channels.telegram.outage logs it once
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("handling update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        locale = await reader_locale(update, context)
    except Exception:  # the database may be what failed: answer in Telegram's language
        log.warning("no locale for update %s; using the app's", update_id, exc_info=True)
        locale = locale_of(None, update, context)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(translate(locale, FAILED))
        else:
            await reply(update, locale, FAILED)
    except TelegramError as error:  # the answer may fail for the same reason; logged above
        log.warning("could not tell update %s's chat: %s", update_id, error)
