"""What needs doing and how it went: /due for everyone, /digest and /stats for administrators."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update

from bot.door import NOT_LINKED, Context, door, locale_of, reply, run_db
from channels.telegram.chats import person_for_chat
from channels.telegram.sender import split_text
from models.catalogue import translate
from models.checklists import latest_template
from models.duties import TaskStatus, district_calendar
from models.messages import N_
from models.people import managed_schools, visible_schools
from models.sweep import DIGEST, DIGEST_FIGURES, completion_rates, school_figures
from models.task_lists import due_now

DUE_LIST = N_("Due and overdue:\n%(tasks)s")
NOTHING_DUE = N_("Nothing is due now. Well done!")
ADMINS_ONLY = N_("Only administrators can see this.")
STATS_LINE = N_("%(place)s, last 30 days: %(done)d done, %(missed)d missed (%(rate)d%% done).")
# A rate of nothing is no rate: a school with nothing done or missed says so instead.
STATS_NOTHING = N_("%(place)s, last 30 days: nothing was done or missed.")
LISTED = 10
STATS_DAYS = 30


async def due(update: Update, context: Context) -> None:
    """The person's tasks due and overdue now (an administrator's: their schools'), each in
    its school's own time, as every notice is."""
    chat = update.effective_chat
    if chat is None:
        return
    now = door(context).clock.now()

    def listing(session: Session) -> tuple[str, str, dict[str, Any]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), NOT_LINKED, {}
        locale = locale_of(person, update, context)
        tasks = due_now(session, person, now=now, size=LISTED)
        if not tasks.items:
            return locale, NOTHING_DUE, {}
        lines = []
        several = len(visible_schools(session, person)) > 1  # a district administrator
        for task in tasks.items:
            template = latest_template(
                session, task.template_key, district_id=task.asset.school.district_id
            )
            title = template.spec.title_text(locale) if template else task.template_key
            mark = "⚠️ " if task.status(now) == TaskStatus.OVERDUE else ""
            when = task.asset.school.district.local(task.due_at).strftime("%m-%d %H:%M")
            school = f"{task.asset.school.name} · " if several else ""
            lines.append(f"{mark}{school}{title} · {task.asset.code} {task.asset.name} · {when}")
        if tasks.total > LISTED:
            lines.append(f"… +{tasks.total - LISTED}")
        return locale, DUE_LIST, {"tasks": "\n".join(lines)}

    locale, msgid, params = await run_db(context, listing)
    await reply(update, locale, msgid, **params)


async def digest(update: Update, context: Context) -> None:
    """Today's figures for the administrator's schools, summed."""
    await _figures(update, context, DIGEST)


async def stats(update: Update, context: Context) -> None:
    """The last 30 days' completion rate per school."""
    await _figures(update, context, STATS_LINE)


async def _figures(update: Update, context: Context, kind: str) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    now = door(context).clock.now()

    def figures(session: Session) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), [(NOT_LINKED, {})]
        locale = locale_of(person, update, context)
        schools = managed_schools(session, person)
        if not schools:
            return locale, [(ADMINS_ONLY, {})]
        ids = [school.id for school in schools]
        if kind == DIGEST:
            calendar = district_calendar(session, schools[0].district)
            counts = school_figures(session, ids, calendar, calendar.local_date(now), now)
            total: Counter[str] = Counter()
            for school in schools:
                total.update(counts.get(school.id, Counter()))
            place = schools[0].district.name if len(schools) > 1 else schools[0].name
            params = {name: total.get(name, 0) for name in DIGEST_FIGURES}
            return locale, [(DIGEST, {"place": place, **params})]
        names = {school.id: school.name for school in schools}
        rates = completion_rates(session, ids, now - timedelta(days=STATS_DAYS), now)
        return locale, [
            (
                (STATS_LINE if c.done + c.missed else STATS_NOTHING),
                {"place": names[c.school_id], "done": c.done, "missed": c.missed, "rate": c.rate},
            )
            for c in rates[:LISTED]
        ]

    locale, lines = await run_db(context, figures)
    text = "\n".join(translate(locale, msgid, **params) for msgid, params in lines)
    for piece in split_text(text):
        await chat.send_message(piece)
