"""Whose task is whose: the tasks a person is shown and reminded of follow who files them.

A task is in the care of its asset's responsible person when they may file its checklist. When
they may not (陪餐 on the canteen, which its canteen staff do not file), or they stand in as the
school's administrator without the role (a boarding school's dorms kept by its head), it is also
in the care of everyone at the school who holds a role that files it: the dorm managers, the
food-safety officer. So nobody is shown a task they would be refused, and no task is left with
nobody to do it. Administrators may also see every task at the schools they administer.
The web's task list, the bot's /due and photo replies, and the sweep's reminders all read it here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, selectinload

from models.assets import Asset
from models.checklist_roles import district_filing_roles
from models.duties import Task, TaskState, TaskStatus
from models.org import School
from models.paging import PAGE_SIZE, Page, page_of
from models.people import Person, Role, RoleGrant, managed_schools, visible_school_ids


def sees_all_tasks(session: Session, person: Person) -> bool:
    """Administrators are shown every task at the schools they administer; others, theirs."""
    return bool(managed_schools(session, person))


def _held_roles(person: Person) -> dict[int, set[Role]]:
    """The roles a person holds, by school (district-wide grants are not at one school)."""
    held: dict[int, set[Role]] = defaultdict(set)
    for grant in person.grants:
        if grant.school_id is not None:
            held[grant.school_id].add(Role(grant.role))
    return held


def _filed_by_holder(roles: Iterable[Role], school_id: Any) -> ColumnElement[bool]:
    """Whether the asset's responsible person is active and holds one of these roles there."""
    return exists(
        select(RoleGrant.id)
        .join(Person, Person.id == RoleGrant.person_id)
        .where(
            RoleGrant.person_id == Asset.responsible_id,
            RoleGrant.school_id == school_id,
            RoleGrant.role.in_(list(roles)),
            Person.active,
        )
    )


def in_care_of(session: Session, person: Person) -> ColumnElement[bool]:
    """The condition, on Task joined to its Asset, that a task is in this person's care."""
    managed = {s.id for s in managed_schools(session, person)}
    mine = [and_(Asset.responsible_id == person.id, Task.school_id.in_(managed))] if managed else []
    held = _held_roles(person)
    rows = session.execute(select(School.id, School.district_id).where(School.id.in_(held)))
    districts: dict[int, int] = {school_id: district_id for school_id, district_id in rows}
    by_district: dict[int, dict[str, tuple[Role, ...]]] = {}
    for school_id, roles in held.items():
        if school_id in managed or school_id not in districts:
            continue
        district_id = districts[school_id]
        if district_id not in by_district:
            by_district[district_id] = district_filing_roles(session, district_id)
        filing = by_district[district_id]
        refused = [key for key, need in filing.items() if need and not roles & set(need)]
        mine.append(
            and_(
                Asset.responsible_id == person.id,
                Task.school_id == school_id,
                Task.template_key.not_in(refused) if refused else true(),
            )
        )
        by_roles: dict[tuple[Role, ...], list[str]] = defaultdict(list)
        for key, need in filing.items():
            if roles & set(need):
                by_roles[need].append(key)
        for need, keys in by_roles.items():
            mine.append(
                and_(
                    Task.school_id == school_id,
                    Task.template_key.in_(keys),
                    ~_filed_by_holder(need, school_id),
                )
            )
    return or_(*mine) if mine else false()


@dataclass
class CareBook:
    """What `carers` looked up, kept for one sweep: the districts' filing roles, the answers."""

    filing_roles: dict[int, dict[str, tuple[Role, ...]]] = field(default_factory=dict)
    found: dict[tuple[int, str, int | None], list[int]] = field(default_factory=dict)


def carers(
    session: Session, task: Task | Any, responsible_id: int | None, book: CareBook
) -> list[int]:
    """Who is reminded of a task: the people whose own list shows it (see `in_care_of`).

    `task` needs `school_id` and `template_key`.
    """
    key = (task.school_id, task.template_key, responsible_id)
    if key in book.found:
        return book.found[key]
    school = session.get_one(School, task.school_id)
    if school.district_id not in book.filing_roles:
        book.filing_roles[school.district_id] = district_filing_roles(session, school.district_id)
    need = set(book.filing_roles[school.district_id].get(task.template_key, ()))
    responsible = session.get(Person, responsible_id) if responsible_id else None
    if responsible is not None and not responsible.active:
        responsible = None

    def holds_role(person: Person) -> bool:
        return any(g.school_id == school.id and Role(g.role) in need for g in person.grants)

    found: list[int] = []
    if responsible is not None and (
        not need or holds_role(responsible) or responsible.can_manage_school(school)
    ):
        found.append(responsible.id)
    if need and (responsible is None or not holds_role(responsible)):
        holders = session.scalars(
            select(Person)
            .join(RoleGrant, RoleGrant.person_id == Person.id)
            .where(
                Person.active,
                RoleGrant.school_id == school.id,
                RoleGrant.role.in_(list(need)),
            )
            .order_by(Person.id)
        )
        found += [p.id for p in holders if p.id not in found]
    book.found[key] = found
    return found


def _tasks_shown(
    session: Session, viewer: Person, *, school: School | None, mine: bool
) -> Select[Task]:
    """The current tasks a person is shown, in every door: the ones in their care, or (not
    `mine`) for an administrator also every task at the schools they administer."""
    query = (
        select(Task)
        .join(Asset, Asset.id == Task.asset_id)
        .where(Task.current == true(), Task.school_id.in_(visible_school_ids(viewer)))
    )
    if school is not None:
        query = query.where(Task.school_id == school.id)
    care = in_care_of(session, viewer)
    managed = [] if mine else [s.id for s in managed_schools(session, viewer)]
    if managed:
        return query.where(or_(Task.school_id.in_(managed), care))
    return query.where(care)


def due_now(
    session: Session, person: Person, *, now: datetime, page: Any = 1, size: int = PAGE_SIZE
) -> Page[Task]:
    """What is due and overdue for this person now, overdue first, soonest due first: the
    tasks in their care, or for an administrator every task at the schools they administer
    (the web's task list shows the same ones, with upcoming and done ones beside them)."""
    query = _tasks_shown(session, person, school=None, mine=not sees_all_tasks(session, person))
    query = query.where(
        Task.state == TaskState.OPEN, Task.opens_at <= now, Task.closes_at > now
    ).options(selectinload(Task.asset), selectinload(Task.school))
    return page_of(session, query.order_by(Task.due_at, Task.id), page, size)


def tasks_for(
    session: Session,
    viewer: Person,
    *,
    now: datetime,
    school: School | None = None,
    mine: bool = False,
    limit: int = 200,
    with_done: bool = True,
) -> list[Task]:
    """Current tasks the viewer is shown (see `_tasks_shown`), most urgent first: overdue,
    then due, then upcoming; with `with_done`, the ones done while their window lasts last."""
    query = _tasks_shown(session, viewer, school=school, mine=mine)
    still_open = query.where(Task.state == TaskState.OPEN, Task.closes_at > now)
    tasks = list(session.scalars(still_open.order_by(Task.due_at, Task.id).limit(limit)))
    order = [TaskStatus.OVERDUE, TaskStatus.DUE, TaskStatus.UPCOMING]
    tasks.sort(key=lambda t: (order.index(t.status(now)), t.due_at))
    if with_done and len(tasks) < limit:
        done = query.where(Task.state == TaskState.DONE).order_by(Task.done_at.desc(), Task.id)
        tasks += session.scalars(done.limit(limit - len(tasks)))
    return tasks


def task_page(
    session: Session,
    viewer: Person,
    *,
    now: datetime,
    school: School | None = None,
    mine: bool = False,
    page: Any = 1,
    size: int = PAGE_SIZE,
) -> Page[Task]:
    """One page of the current tasks the viewer is shown (see `_tasks_shown`), in the order
    of `tasks_for`: overdue, due, upcoming (each soonest due first), then those done while
    their window lasts."""
    query = (
        _tasks_shown(session, viewer, school=school, mine=mine)
        .where(
            or_(
                and_(Task.state == TaskState.OPEN, Task.closes_at > now),
                Task.state == TaskState.DONE,
            ),
        )
        .options(selectinload(Task.asset).selectinload(Asset.labels), selectinload(Task.school))
    )
    rank = case(
        (Task.state == TaskState.DONE, 3),
        (Task.due_at <= now, 0),
        (Task.opens_at <= now, 1),
        else_=2,
    )
    done_last = case((Task.state == TaskState.DONE, Task.done_at), else_=None)
    query = query.order_by(rank, done_last.desc(), Task.due_at, Task.id)
    return page_of(session, query, page, size)


def notice_school(session: Session, notice: Any) -> School | None:
    """The school a notice is about, read from its tasks (a Notification's task_ids); None
    for a notice about no task."""
    task_ids = list(getattr(notice, "task_ids", None) or [])
    if not task_ids:
        return None
    return session.scalar(
        select(School).join(Task, Task.school_id == School.id).where(Task.id == task_ids[0])
    )
