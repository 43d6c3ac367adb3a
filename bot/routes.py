"""Which handler takes which update: every handler, in priority order, in this one place."""

from __future__ import annotations

import warnings

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import errors, evidence, linking, notices, overview, reports

PHOTOS = filters.PHOTO | filters.Document.IMAGE
WORDS = filters.TEXT & ~filters.COMMAND


def report_conversation() -> ConversationHandler:
    """/report (or a reminder's report button) to /done or /cancel, one per chat. Commands it
    does not know are answered by their own handlers and the report goes on; /start with a
    code and /stop end it."""
    with warnings.catch_warnings():
        # Its buttons belong to the chat's report, not to the message they came with.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("report", reports.begin),
                CallbackQueryHandler(reports.begin_from_task, pattern=r"^report:"),
            ],
            states={
                reports.CHOOSING_ASSET: [MessageHandler(WORDS, reports.asset_by_code)],
                reports.DESCRIBING: [MessageHandler(WORDS, reports.describe)],
                reports.ADDING_PHOTOS: [
                    MessageHandler(PHOTOS, reports.add_photo),
                    CommandHandler("done", reports.done),
                    MessageHandler(WORDS, reports.words_between_photos),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", reports.cancel),
                CallbackQueryHandler(reports.asset_by_button, pattern=r"^rasset:"),
                CommandHandler("start", linking.start),
                CommandHandler("stop", linking.stop),
            ],
            allow_reentry=True,
            per_chat=True,
            per_user=False,
        )


def add_handlers(application: Application) -> None:
    """The first handler that matches an update takes it; the conversation goes first."""
    application.add_handler(report_conversation())
    application.add_handler(CommandHandler("start", linking.start))
    application.add_handler(CommandHandler("stop", linking.stop))
    application.add_handler(CommandHandler("lang", linking.language))
    application.add_handler(CommandHandler("due", overview.due))
    application.add_handler(CommandHandler("alerts", notices.alerts))
    application.add_handler(CommandHandler("digest", overview.digest))
    application.add_handler(CommandHandler("stats", overview.stats))
    application.add_handler(CommandHandler("cancel", reports.cancel))
    application.add_handler(CallbackQueryHandler(notices.acknowledge_button, pattern=r"^ack:"))
    application.add_handler(CallbackQueryHandler(notices.snooze_button, pattern=r"^snooze:"))
    application.add_handler(CallbackQueryHandler(evidence.choose_task, pattern=r"^photo:"))
    application.add_handler(CallbackQueryHandler(reports.stale_choice, pattern=r"^rasset:"))
    application.add_handler(CallbackQueryHandler(notices.unknown_button))
    application.add_handler(MessageHandler(PHOTOS, evidence.photo))
    application.add_handler(MessageHandler(filters.ALL, linking.anything_else))
    application.add_error_handler(errors.on_error)
