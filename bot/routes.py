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

from bot import closing, errors, evidence, linking, notices, overview, reports

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
                reports.CHOOSING_SCHOOL: [
                    MessageHandler(WORDS, reports.school_by_code),
                    CallbackQueryHandler(reports.school_by_button, pattern=r"^rschool:"),
                ],
                reports.CHOOSING_ASSET: [MessageHandler(WORDS, reports.asset_by_code)],
                reports.DESCRIBING: [
                    MessageHandler(WORDS, reports.describe),
                    MessageHandler(PHOTOS, reports.photo_first),
                ],
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
            name="report",
            persistent=True,  # kept in the database (bot.persistence): a restart loses nothing
        )


def close_conversation() -> ConversationHandler:
    """A close:<action> button (from /close or under the action's notice), a note, a photo."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(closing.chosen, pattern=r"^close:")],
            states={
                closing.NOTE: [
                    MessageHandler(WORDS, closing.note),
                    MessageHandler(PHOTOS, closing.photo),
                ],
                closing.PHOTO: [MessageHandler(PHOTOS, closing.photo)],
            },
            fallbacks=[
                CommandHandler("cancel", closing.cancel),
                CommandHandler("start", linking.start),
                CommandHandler("stop", linking.stop),
            ],
            allow_reentry=True,
            per_chat=True,
            per_user=False,
            name="close",
            persistent=True,
        )


def add_handlers(application: Application) -> None:
    """The first handler that matches an update takes it; the conversations go first. An
    edited message is dropped before any of them: its command already ran as first sent."""
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, linking.ignore_edit), -1)
    application.add_handler(report_conversation())
    application.add_handler(close_conversation())
    application.add_handler(CommandHandler("help", linking.help_command))
    application.add_handler(CommandHandler("close", closing.begin))
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
    application.add_handler(
        CallbackQueryHandler(reports.stale_choice, pattern=r"^(rasset|rschool):")
    )
    application.add_handler(CallbackQueryHandler(notices.unknown_button))
    application.add_handler(MessageHandler(PHOTOS, evidence.photo))
    application.add_handler(MessageHandler(filters.ALL, linking.anything_else))
    application.add_error_handler(errors.on_error)
