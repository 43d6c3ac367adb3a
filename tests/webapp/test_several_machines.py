"""Houqin on several machines: photos in an S3-compatible object store (a local one the tests
start), served by the app or by short-lived signed addresses, and two web servers on one
database and one store that a person moves between without noticing."""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models.clock import SettableClock
from models.db import make_session_factory
from models.documents import Document, DocumentKind
from models.object_store import ObjectStoreAddress, S3PhotoStore
from models.people import Role
from models.photos import Photo
from models.stored_files import PdfFile, store_pdf
from settings import Settings, database_engine
from tests.conftest import Auth
from tests.factories import EXTINGUISHER_OK, jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.helpers import open_form, submit_form
from tests.webapp.test_drafts import CHECKLIST, _counts, _send, _setup, file_from_draft
from tests.webapp.test_people_import import _confirm, _upload
from webapp import create_app, drafts


def _app(settings: Settings, session_factory: sessionmaker[Session], clock: SettableClock) -> Flask:
    app = create_app(settings, session_factory=session_factory, clock=clock)
    app.config["TESTING"] = True
    return app


def _second_server(
    settings: Settings, tmp_path: Path, clock: SettableClock
) -> tuple[FlaskClient, Engine]:
    """Another web server on the same config: its own engine and pool and its own disk, as
    another machine would have."""
    own = copy.deepcopy(settings)
    own.storage.data_dir = str(tmp_path / "web-2")
    engine = database_engine(own.database)
    return _app(own, make_session_factory(engine), clock).test_client(), engine


def _same_browser(first: FlaskClient, second: FlaskClient) -> None:
    """The cookies of one server's browser on the other: the load balancer sent it across."""
    for name in ("session", "remember_token"):
        cookie = first.get_cookie(name)
        if cookie is not None:
            second.set_cookie(name, cookie.value)


@pytest.fixture
def two_servers(
    s3_settings: Settings,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    tmp_path: Path,
) -> Iterator[tuple[FlaskClient, FlaskClient]]:
    """Two web servers on one database and one object store, a browser of each."""
    first = _app(s3_settings, session_factory, clock).test_client()
    second, engine = _second_server(s3_settings, tmp_path, clock)
    yield first, second
    engine.dispose()


def _file_with_photo(client: FlaskClient, session: Session, clock: SettableClock) -> str:
    """An inspector at S1 (logged in on `client`) files a check with a photo; its page."""
    school = make_school(session, "S1")
    make_school(session, "S2", "第二中学", district=school.district)
    make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    session.commit()
    Auth(client).login("inspector")
    response = submit_form(
        client,
        asset.current_label.token,
        "extinguisher_monthly",
        EXTINGUISHER_OK,
        {"photo": jpeg_bytes((3000, 2000))},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _photo_url(html: str) -> str:
    match = re.search(r'href="(/photos/\d+\.jpg)"', html)
    assert match, "the record page links no photo"
    return match.group(1)


def _stored_photo(session: Session) -> Photo:
    session.rollback()
    [photo] = session.query(Photo).all()
    return photo


def test_a_photo_filed_with_the_object_store_is_kept_there_and_sent_by_the_app(
    s3_settings: Settings,
    s3_address: ObjectStoreAddress,
    session_factory: sessionmaker[Session],
    session: Session,
    clock: SettableClock,
) -> None:
    client = _app(s3_settings, session_factory, clock).test_client()
    html = _file_with_photo(client, session, clock)

    shown = client.get(_photo_url(html), buffered=True)

    photo = _stored_photo(session)
    store = S3PhotoStore(s3_address)
    assert shown.status_code == 200
    assert shown.mimetype == "image/jpeg"
    assert "private" in shown.headers["Cache-Control"]
    assert shown.data == store.read(photo.storage_key)
    assert store.exists(photo.thumb_key)
    # Nothing of the photo on this machine's disk: another web server could not see it.
    assert not any(path.is_file() for path in Path(s3_settings.storage.data_dir).rglob("*"))


def test_with_signed_urls_the_app_checks_the_reader_then_redirects_to_a_short_lived_address(
    s3_settings: Settings,
    s3_address: ObjectStoreAddress,
    session_factory: sessionmaker[Session],
    session: Session,
    clock: SettableClock,
) -> None:
    s3_settings.storage.serve = "signed_url"
    app = _app(s3_settings, session_factory, clock)
    client = app.test_client()
    html = _file_with_photo(client, session, clock)
    url = _photo_url(html)

    redirect = client.get(url)

    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert urlsplit(location).netloc == urlsplit(s3_address.endpoint_url).netloc
    assert "X-Amz-Expires=300" in location
    assert "private" in redirect.headers["Cache-Control"]
    fetched = httpx.get(location)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.content == S3PhotoStore(s3_address).read(_stored_photo(session).storage_key)

    stranger = app.test_client()
    other = make_school(session, "S3", "第三中学")
    make_person(session, clock, other, username="outsider")
    session.commit()
    Auth(stranger).login("outsider")
    assert stranger.get(url).status_code == 404  # no address handed to someone else's school


def test_two_web_servers_on_one_database_and_store_share_logins_and_photos(
    two_servers: tuple[FlaskClient, FlaskClient], session: Session, clock: SettableClock
) -> None:
    first, second = two_servers
    html = _file_with_photo(first, session, clock)
    _same_browser(first, second)

    page = second.get("/")
    photo = second.get(_photo_url(html), buffered=True)

    assert page.status_code == 200
    assert photo.status_code == 200
    assert photo.data == first.get(_photo_url(html), buffered=True).data


def test_an_import_previewed_on_one_web_server_is_confirmed_on_the_other(
    two_servers: tuple[FlaskClient, FlaskClient], session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    session.commit()
    first, second = two_servers
    Auth(first).login("admin")
    book = openpyxl.load_workbook(io.BytesIO(first.get("/admin/S1/import/people.xlsx").data))
    book.worksheets[0].append(["wangfang", "王芳", "13900000001", "食堂从业人员"])
    out = io.BytesIO()
    book.save(out)
    preview = _upload(first, out.getvalue(), "people.xlsx").get_data(as_text=True)
    _same_browser(first, second)

    confirmed = _confirm(second, preview)

    assert confirmed.status_code == 200
    html = confirmed.get_data(as_text=True)
    assert "王芳" in html
    assert len(re.findall(r'<span class="code">([0-9A-Z]{8})</span>', html)) == 1


def test_a_pdf_behind_a_signed_url_still_downloads_as_an_attachment_under_its_name(
    s3_settings: Settings,
    s3_address: ObjectStoreAddress,
    session_factory: sessionmaker[Session],
    session: Session,
    clock: SettableClock,
) -> None:
    s3_settings.storage.serve = "signed_url"
    school = make_school(session, "S1")
    make_person(session, clock, school)
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    document = Document(
        district_id=school.district_id,
        school_id=school.id,
        kind=DocumentKind.FOOD_BUSINESS_LICENCE,
        title="食品经营许可证",
        file=store_pdf(session, S3PhotoStore(s3_address), PdfFile(pdf), now=clock.now()),
        created_at=clock.now(),
    )
    session.add(document)
    session.commit()
    client = _app(s3_settings, session_factory, clock).test_client()
    Auth(client).login("inspector")

    redirect = client.get(f"/registers/documents/{document.id}/file")
    fetched = httpx.get(redirect.headers["Location"])

    assert redirect.status_code == 302
    assert fetched.content == pdf
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert fetched.headers["Content-Disposition"] == (
        f'attachment; filename="document-{document.id}.pdf"'
    )


def test_a_form_kept_after_its_page_expired_comes_back_filled_in_from_the_other_server(
    two_servers: tuple[FlaskClient, FlaskClient],
    s3_settings: Settings,
    session: Session,
    clock: SettableClock,
    tmp_path: Path,
) -> None:
    first, second = two_servers
    token = _setup(session, clock)
    Auth(first).login("inspector")
    _, key = open_form(first, token, CHECKLIST)
    url = f"/s/{token}/record/{CHECKLIST}"
    answers = {**EXTINGUISHER_OK, "hose_clear": "fail"}
    sent = _send(first, url, {"csrf_token": "expired", "submission_key": key, **answers})
    assert sent.status_code == 303
    _same_browser(first, second)
    kept_for = first.get_cookie(drafts.COOKIE, path="/s/")
    assert kept_for is not None
    second.set_cookie(drafts.COOKIE, kept_for.value, path="/s/")

    page = second.get(sent.headers["Location"]).get_data(as_text=True)

    assert 'name="hose_clear" value="fail" checked' in page
    assert "已保留之前的 1 张照片" in page
    filed = file_from_draft(second, sent, page, {"submission_key": key, **answers})
    assert filed.status_code == 302, filed.get_data(as_text=True)
    assert _counts(session) == (1, 1)
    # Kept in the shared store, not on either server's disk, and gone once filed.
    disks = [Path(s3_settings.storage.data_dir), tmp_path / "web-2"]
    assert not [p for disk in disks if disk.exists() for p in disk.rglob("draft.json")]
    assert second.get(sent.headers["Location"]).get_data(as_text=True).count("已保留") == 0
