"""Whatever a person types or a prober sends into any form the web app serves, the answer is
never a server error, and a refusal shows its message next to the field it is about, in the
person's language. Every route taking a POST is reached from the page that shows its form, as
someone who may use it; hypothesis fills the form's fields (and some it does not have) with
empty, huge, odd and hostile values, with a valid CSRF token. A new form with no page below
fails the test."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as cases
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter
from werkzeug.test import TestResponse

from models.assets import Asset
from models.clock import SettableClock
from models.photos import PhotoStore
from settings import Settings
from tests.conftest import Auth
from tests.factories import PASSWORD, jpeg_bytes, make_chat
from tests.webapp.authorization_table import TABLE
from tests.webapp.authorization_world import ANONYMOUS, DISTRICT_ADMIN, World, build_world
from tests.webapp.helpers import submit_form
from tests.webapp.test_authorization import url_for_rule
from webapp import create_app, downloads

EXAMPLES = 4  # per form (a logout, which logs in again each time, 2): about 200 cases
# Where a form is shown when its route only takes the POST (a form answered on its own page
# is shown by the GET of the same address, unless named here); placeholders are the world's rows.
PAGES = {
    "admin.confirm_import": "/admin/{school_code}/import",
    "admin.preview_upload": "/admin/{school_code}/import",
    "admin.retire": "/admin/{school_code}/assets/{asset_id}",
    "admin.set_school_boarding": "/admin/{school_code}",
    "admin.set_school_position_page": "/admin/{school_code}",
    "admin.set_school_stage": "/admin/{school_code}",
    "auth.end_one_session": "/sessions",
    "auth.end_other_sessions": "/sessions",
    "auth.logout": "/inbox",
    "auth.set_language": "/inbox",
    "channel_groups.add": "/admin/channels",
    "channel_groups.disable": "/admin/channels",
    "channel_groups.send_test": "/admin/channels",
    "chats.make_code": "/telegram",
    "chats.unlink": "/telegram",
    "checklists.save_roles": "/checklists/{key}",
    "inbox.open_notice": "/inbox",
    "notice_settings.save_choices": "/settings/notices",
    "notice_settings.save_email": "/settings/notices",
    "orders.add_order": "/orders/{school_code}",
    "orders.settle_order": "/orders/{school_code}",
    "reports.show_report": "/reports/{school_code}/food-safety/weekly/2026-02-23",  # a past week
    "samples.dispose": "/s/{canteen_token}",
    "schedules.delete_calendar_entry": "/schedules/{school_code}/calendar",
    "score.publish": "/score",
    "training.add_training": "/training/{school_code}",
}
# Who fills a form: the first of these its route lets in (the table of who may do what).
PREFERRED = ("school_admin", DISTRICT_ADMIN, "inspector", "canteen_staff", ANONYMOUS)
# Forms that change their person for the forms after them (the language, the logins) are
# filled by someone of their own.
BY_ENDPOINT = {
    "auth.end_other_sessions": "guard",
    "auth.login": ANONYMOUS,
    "auth.logout": "teacher",
    "auth.set_language": "teacher",
    "scan.report_problem": ANONYMOUS,
}
# Forms not filled here, each with the reason.
NOT_FILLED = {
    "records.show_record": "a note, shown on a flagged record only (test_records.py)",
    "scan.confirm_rear": "a button, shown once a bus's arrival is filed (test_trips.py)",
}
# The CSV the import's confirmation is reached with (its page is the preview of a file).
IMPORT_CSV = "用户名,姓名,手机,角色,初始密码\nnewcomer,新老师,,teacher,\n".encode()

# What goes into a field besides what the page offers.
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\u202eevil\u202c",
        "a\u200bb\u200d",
        "\ufeff",
        "😀👨‍👩‍👧",
        "مرحبا بالعالم",
        "<script>alert(1)</script>",
        "'; DROP TABLE person; --",
        "=1+2",
        "x" * 3000,
        "长" * 10_000,
    ]
)
NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["-1", "-0", "0", "2147483648", "9" * 400, "1e309", "NaN", "-inf", "0x10"]),
)
DATES = st.sampled_from(
    [
        "2026-02-30",
        "2026-13-01",
        "0000-00-00",
        "0001-01-01",
        "9999-12-31",
        "99999-01-01",
        "2026-3-2",
        "02/03/2026",
        "2026-03-02T25:00",
        "24:00",
        "23:60",
        "-1:00",
    ]
)
NASTY = st.one_of(NASTY_TEXT, NUMBERS, DATES, st.text(max_size=40))
EXTRA_NAMES = st.sampled_from(["id", "school_id", "district_id", "person", "do", "role", "x"])


@dataclass
class Control:
    name: str
    kind: str  # an input's type, or select, textarea
    value: str
    options: list[str] = field(default_factory=list)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> list[Node]:
        found = [self]
        for child in self.children:
            found += child.walk()
        return found

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


VOID = {"input", "br", "img", "meta", "link", "hr", "source", "area", "base", "col", "wbr"}


class _Tree(HTMLParser):
    """The page as a tree of elements, enough to say what sits beside what."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Node("document", {}, None)
        self._open: list[Node] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self._open[-1])
        self._open[-1].children.append(node)
        if tag not in VOID:
            self._open.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].children.append(Node("#text", {}, self._open[-1], text=data))


def page_tree(html: str) -> Node:
    tree = _Tree()
    tree.feed(html)
    return tree.root


def _is_control(node: Node) -> bool:
    if node.tag not in ("input", "select", "textarea") or not node.attrs.get("name"):
        return False
    return node.attrs.get("type", "text") not in ("hidden", "submit", "button")


@dataclass
class FoundForm:
    """A form as its page shows it: where it posts, its CSRF field and its other fields."""

    action: str
    csrf: tuple[str, str]
    controls: list[Control]


def find_form(root: Node, page: str, endpoint: str, routes: MapAdapter) -> FoundForm | None:
    """The page's first form that posts to a route of `endpoint`, or None."""
    for form in root.walk():
        if form.tag != "form" or form.attrs.get("method", "get").lower() != "post":
            continue
        action = urlsplit(form.attrs.get("action", "")).path or urlsplit(page).path
        try:
            if routes.match(action, method="POST")[0] != endpoint:
                continue
        except HTTPException:
            continue
        csrf = ("", "")
        controls: dict[str, Control] = {}
        for node in form.walk():
            name = node.attrs.get("name", "")
            if node.tag not in ("input", "select", "textarea") or not name:
                continue
            kind = node.attrs.get("type", "text") if node.tag == "input" else node.tag
            if name.endswith("csrf_token"):
                csrf = (name, node.attrs.get("value", ""))
            elif kind in ("submit", "button"):
                button = controls.setdefault(
                    name, Control(name, "choice", node.attrs.get("value", ""))
                )
                button.options.append(node.attrs.get("value", ""))
            elif node.tag == "select":
                options = [o for o in node.walk() if o.tag == "option"]
                chosen = [o for o in options if "selected" in o.attrs] or options[:1]
                controls[name] = Control(
                    name,
                    "select",
                    chosen[0].attrs.get("value", "") if chosen else "",
                    [o.attrs.get("value", o.all_text()) for o in options],
                )
            elif node.tag == "textarea":
                controls[name] = Control(name, "textarea", node.all_text())
            elif kind in ("checkbox", "radio"):
                choice = controls.setdefault(name, Control(name, kind, ""))
                choice.options.append(node.attrs.get("value", "on"))
                if "checked" in node.attrs:
                    choice.value = node.attrs.get("value", "on")
            else:
                controls[name] = Control(name, kind, node.attrs.get("value", ""))
        return FoundForm(action, csrf, list(controls.values()))
    return None


@st.composite
def submissions(draw: st.DrawFn, controls: list[Control], foreign: list[str]) -> MultiDict:
    """The form as the page offers it, some fields changed, left out, sent twice or added."""
    data: MultiDict = MultiDict()
    for control in controls:
        how = draw(st.sampled_from(["keep", "keep", "choice", "nasty", "nasty", "missing", "list"]))
        if control.kind == "file":
            if how in ("keep", "choice", "missing"):
                continue
            content = draw(st.sampled_from([b"", b"\x00" * 10, b"%PDF-1.7", jpeg_bytes()[:200]]))
            name = draw(st.sampled_from(["a.jpg", "", "../../etc/passwd", "长" * 300 + ".pdf"]))
            data.add(control.name, FileStorage(io.BytesIO(content), name, "image/jpeg"))
            continue
        if how == "missing":
            continue
        if how == "choice" and control.options:
            value = draw(st.sampled_from(control.options))
        elif how == "nasty":
            value = draw(NASTY | st.sampled_from(foreign)) if foreign else draw(NASTY)
        else:
            value = control.value
        data.add(control.name, value)
        if how == "list":
            data.add(control.name, draw(NASTY))
    for name, value in draw(st.dictionaries(EXTRA_NAMES, NASTY, max_size=2)).items():
        data.add(name, value)
    return data


CJK = re.compile(r"[\u4e00-\u9fff]")
UNTYPED = ("hidden", "choice", "select", "radio", "checkbox")


def tampered(data: MultiDict, controls: list[Control]) -> bool:
    """Whether the case sent what no person can choose on the page: a value the page does not
    offer in a hidden field, a button or a choice, no hidden field or button at all, or two
    values for one field."""
    for control in controls:
        sent = data.getlist(control.name)
        if not sent and control.kind in ("hidden", "choice"):
            return True
        many = control.kind == "checkbox" or control.kind == "select"
        if len(sent) > 1 and not many:
            return True
        if control.kind in UNTYPED and any(
            v not in (*control.options, control.value) for v in sent
        ):
            return True
    return False


def beside_a_control(message: Node) -> bool:
    """Whether a message shares its fieldset (or label, or the like) with a field, or follows
    one straight inside its form."""
    holder = message.parent
    while holder is not None and holder.tag not in ("form", "body", "document"):
        if any(_is_control(n) for n in holder.walk()):
            return True
        holder = holder.parent
    if holder is None or holder.tag != "form":
        return False
    before = [n for n in holder.children[: holder.children.index(message)] if n.tag != "#text"]
    return bool(before) and any(_is_control(n) for n in before[-1].walk())


@dataclass
class Verdict:
    """What is wrong with an answer, and, for a refusal naming no field, what it said."""

    problems: list[str]
    unnamed: str | None = None


def judge(response: TestResponse, chinese: bool) -> Verdict:
    """Never a server error; a redirect is taken; a page again is a refusal (when it says
    something is wrong) or what was asked for (a preview, a signed report). A refusal's every
    message stands next to a field of a form on the page (the one sent, or the one to send
    again: an expired import's upload), in the person's language."""
    status = response.status_code
    if status >= 500:
        return Verdict([f"server error {status}"])
    if status in (301, 302, 303):
        return Verdict([])
    if status in (400, 404):
        return Verdict([], str(status))
    if status not in (200, 401, 409, 422, 429):
        return Verdict([f"answered {status}"])
    root = page_tree(response.get_data(as_text=True))
    nodes = root.walk()
    if status == 200 and not any(
        n.attrs.get("role") == "alert" or "err" in n.classes() for n in nodes
    ):
        return Verdict([])
    problems = []
    beside_a_field = 0
    for node in nodes:
        if "err" not in node.classes() or node.tag in ("fieldset", "li"):  # a record's flags
            continue
        message = node.all_text().strip()
        if chinese and not CJK.search(message):
            problems.append(f"message not in Chinese: {message[:80]!r}")
        if beside_a_control(node):
            beside_a_field += 1
        else:
            problems.append(f"message next to no field of the form: {message[:80]!r}")
    if beside_a_field:
        return Verdict(problems)
    alerts = [n.all_text().strip()[:80] for n in nodes if n.attrs.get("role") == "alert"]
    return Verdict(problems, f"{status} {alerts}")


@dataclass
class Form:
    endpoint: str
    page: str
    # Who may use it, in the order tried: the first shown the form fills it.
    subjects: list[str]


def subjects_for(endpoint: str) -> list[str]:
    if endpoint in BY_ENDPOINT:
        return [BY_ENDPOINT[endpoint]]
    who = TABLE[endpoint].who
    return [s for s in PREFERRED if s in who] + sorted(who - set(PREFERRED))


def every_form(app: Flask, world: World) -> list[Form]:
    """Every route taking a POST but those NOT_FILLED, with the page showing its form."""
    forms = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if not rule.methods or "POST" not in rule.methods or rule.endpoint in NOT_FILLED:
            continue
        subjects = subjects_for(rule.endpoint)
        person = world.people.get(subjects[0])
        if rule.endpoint in PAGES:
            page = PAGES[rule.endpoint].format(key="extinguisher_monthly", **world.own.values)
        else:
            assert "GET" in rule.methods, f"a form with no page in PAGES: {rule.endpoint}"
            page = url_for_rule(rule, world.own, person.id if person else None)
        forms.append(Form(rule.endpoint, page, subjects))
    return forms


# These end what later forms use (a group, the label's address, logins): asked last.
LAST = (
    "admin.retire",
    "channel_groups.disable",
    "labels.replace_label",
    "auth.end_other_sessions",
    "auth.logout",
)
# These end the address or the login their form was shown for: each case opens it anew.
REOPENED = ("labels.replace_label", "auth.logout")


def test_no_input_into_any_form_makes_a_server_error_and_each_refusal_names_its_field(
    settings: Settings,
    session_factory: sessionmaker[Session],
    session: Session,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.email.host, settings.email.sender = "127.0.0.1", "houqin@school.test"
    settings.telegram.token = "123:abc"
    settings.reports.public_per_label_per_hour = 10_000
    settings.reports.public_per_address_per_day = 10_000
    monkeypatch.setattr(downloads, "pdf_of", lambda html: b"%PDF-1.7")
    app = create_app(settings, session_factory=session_factory, clock=clock)
    app.config["TESTING"] = True
    routes = app.url_map.bind("houqin.test")
    store: PhotoStore = app.extensions["houqin.photos"]
    world = build_world(session, clock, store)
    canteen = session.scalars(select(Asset).where(Asset.code == "ST-01")).one()
    world.own.values["canteen_token"] = canteen.current_label.token  # type: ignore[union-attr]
    cook = world.people["canteen_staff"]
    make_chat(session, world.people[subjects_for("chats.unlink")[0]], 4242, clock.now())
    session.commit()
    forms = sorted(
        every_form(app, world),
        key=lambda f: (LAST.index(f.endpoint) if f.endpoint in LAST else -1, f.endpoint),
    )
    foreign = [v for k, v in world.other.values.items() if k != "school_code"] + ["B1", "C1"]
    clients: dict[str, FlaskClient] = {}

    def client_of(subject: str) -> FlaskClient:
        if subject not in clients:
            clients[subject] = app.test_client()
            if subject != ANONYMOUS:
                Auth(clients[subject]).login(world.people[subject].username, PASSWORD)
        return clients[subject]

    def open_form(form: Form) -> FoundForm:
        """The form as the first of its subjects shown it sees it; that one fills it."""
        seen = []
        for subject in form.subjects:
            client = client_of(subject)
            if form.endpoint == "admin.confirm_import":
                root = page_tree(client.get(form.page).get_data(as_text=True))
                upload = find_form(root, form.page, "admin.preview_upload", routes)
                assert upload, "no import form"
                file = FileStorage(io.BytesIO(IMPORT_CSV), "people.csv", "text/csv")
                data = {upload.csrf[0]: upload.csrf[1], "kind": "people", "file": file}
                response = client.post(upload.action, data=data)
            else:
                response = client.get(form.page)
            seen.append(f"{subject} {response.status_code}")
            if response.status_code == 200:
                root = page_tree(response.get_data(as_text=True))
                found = find_form(root, form.page, form.endpoint, routes)
                if found:
                    form.subjects = [subject]
                    return found
        raise AssertionError(f"{form.endpoint}: {form.page} shows no form to it ({seen})")

    filed = submit_form(
        client_of("canteen_staff"),
        world.own.values["canteen_token"],
        "canteen_food_sample_retention",
        {**SAMPLE, "sampler": str(cook.id)},
        {"photo": jpeg_bytes()},
    )
    assert filed.status_code == 302, filed.get_data(as_text=True)[-3000:]
    clock.set(clock.now() + timedelta(hours=49))  # the sample may be disposed of
    ran: dict[str, int] = {}
    wrong: list[str] = []

    def cases_of(form: Form, opened: FoundForm) -> Callable[[], None]:
        client = client_of(form.subjects[0])
        chinese = form.subjects[0] != BY_ENDPOINT["auth.set_language"]

        def send(data: MultiDict) -> TestResponse:
            if form.endpoint == "auth.logout" and client.get("/login").status_code == 200:
                Auth(client).login(world.people[form.subjects[0]].username, PASSWORD)
            shown = open_form(form) if form.endpoint in REOPENED else opened
            data.setlist(shown.csrf[0], [shown.csrf[1]])
            response = client.post(shown.action, data=data)
            if form.endpoint == "labels.replace_label" and response.status_code == 302:
                form.page = f"{response.headers['Location']}/label/replace"  # the new label's
            return response

        @cases(
            max_examples=2 if form.endpoint == "auth.logout" else EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(data=submissions(opened.controls, foreign))
        def post(data: MultiDict) -> None:
            ran[form.endpoint] += 1
            clock.set(clock.now() + timedelta(minutes=1))
            try:
                with send(data) as response:
                    verdict = judge(response, chinese)
            except Exception as error:  # the test client hands on what a 500 would hide
                verdict = Verdict([f"server error: {error!r:.300}"])
            shown = {k: [str(v)[:40] for v in data.getlist(k)] for k in data if "csrf" not in k}
            if verdict.unnamed is not None and not tampered(data, opened.controls):
                # Named no field: right only when the page's own values are refused alike (the
                # fault is not in what was typed: the row is gone, a holder lost the role).
                own = MultiDict(
                    [(c.name, c.value) for c in opened.controls if c.kind != "file" and c.value]
                )
                with send(own) as response:
                    again = judge(response, chinese).unnamed
                if again != verdict.unnamed:
                    verdict.problems.append(f"refused naming no field: {verdict.unnamed}")
            assert not verdict.problems, f"{form.endpoint} {shown}: {verdict.problems}"

        return post

    for form in forms:
        try:
            opened = open_form(form)
        except AssertionError as failed:
            wrong.append(str(failed).splitlines()[0])
            continue
        ran[form.endpoint] = 0
        try:
            cases_of(form, opened)()
        except AssertionError as failed:
            wrong.append(str(failed).splitlines()[0])
    for endpoint, count in ran.items():
        print(f"form cases {endpoint}: {count}")
    print(f"form cases: {sum(ran.values())} in {len(ran)} forms")
    assert not wrong, "\n".join(wrong)


SAMPLE = {
    "meal": "breakfast",
    "dish": "番茄炒蛋",
    "weight": "150",
    "sampled_at": "08:00",
    "fridge": "留样专柜 1 号",
    "fridge_temp": "4",
    "labelled": "yes",
}
