"""A checklist sent after its login or its page expired is kept, not lost.

When a record form arrives with an expired CSRF token or without a login, its answers and
photos are kept in the app's file store (the data folder, or the object store that several web
servers share) under a random draft id for a day; the person logs in again, on whichever
server, and lands on the same form, filled in, with the photos kept. Nothing is written to
the database (no lock, no half-record); the draft is dropped when the record is filed.

A draft is kept only for a form sent from this site (its Origin, or else its Referer, names
this host): a form another site posts here is not kept, so no one can put their answers on
someone else's form. It is shown only to the browser that sent it (a random cookie whose
hash the draft holds, and the person when still logged in): its link alone opens nothing,
and logging out forgets the cookie, so the next person on a shared phone finds nothing.
Only the checklist's own items are kept, each value bounded, and only while the drafts
together stay under their cap; past it nothing is kept and the page says it expired.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Request, after_this_request, current_app
from flask import request as current_request
from flask_login import current_user
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.wrappers import Response

from models.assets import find_asset_by_token
from models.checklists import FormTemplate, latest_template
from models.health import OFF_DUTY, is_roster_field
from models.photos import LocalPhotoStore, PhotoStore, StoredKey
from webapp import db

log = logging.getLogger(__name__)
# One keep at a time in this process counts on the drafts' tally in an object store.
_TALLY_IN_THIS_PROCESS = threading.Lock()
DRAFT_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")
KEEP_SECONDS = 24 * 3600
# The browser a draft belongs to: a random value, of which the draft keeps the sha256.
COOKIE = "houqin_draft"
MAX_PHOTOS = 20
# Anyone holding a label's address can send its form logged out: the drafts together take
# at most this much room and are at most this many; past either nothing more is kept.
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_DRAFTS = 500
# Per draft: the characters of one value (a longer text item keeps its own length), the
# values of one field, and the characters of all fields together.
MAX_VALUE_CHARS = 2000
MAX_VALUES = 50
MAX_FIELD_CHARS = 100_000
# What a draft's own fields (json) may take at most, beyond the body's length.
FIELDS_BYTES = 4 * MAX_FIELD_CHARS + 64 * 1024
# The drafts' folder is looked through (expired ones dropped, the rest measured) at most
# this often; in between each keep adds what it may take to the tally.
SCAN_SECONDS = 300
# Where drafts are kept in the app's file store: a folder per draft, and their tally.
FOLDER = "drafts"
DRAFT_FILE = "draft.json"
TALLY = f"{FOLDER}/.tally.json"
# Fields the record form itself sends besides the checklist's items.
FORM_FIELDS = ("submission_key", OFF_DUTY)
# The forms whose answers are kept: the checklist form of a scanned asset.
KEPT_FORMS = {"scan.file_record"}


def back_to(request: Request) -> str | None:
    """Keep what was sent, if it is a checklist of a live label sent from this site and
    there is room, and return the address of the same form to fill in with it; None if
    nothing was kept."""
    if request.method != "POST" or request.endpoint not in KEPT_FORMS:
        return None
    if not _from_this_site(request):
        return None
    args = request.view_args or {}
    asset = find_asset_by_token(db.session(), str(args.get("token", "")))
    if asset is None:
        return None
    key = str(args.get("template_key", ""))
    template = latest_template(db.session(), key, district_id=asset.school.district_id)
    if template is None or template.kind != asset.kind:
        return None
    draft_id = keep(request, request.path, template)
    return None if draft_id is None else f"{request.path}?draft={draft_id}"


def _from_this_site(request: Request) -> bool:
    """Whether the form was sent from a page of this site: its Origin (or, without one, its
    Referer) names this host. A browser sends one of them with a form; "null" names none."""
    source = request.headers.get("Origin")
    if source is None:
        source = request.referrer
    if not source:
        return False
    try:
        parts = urlsplit(source)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


@dataclass(frozen=True)
class Draft:
    """What was sent: the form's fields and the photos per item."""

    values: MultiDict[str, str]
    photos: dict[str, list[bytes]]


def _folder(draft_id: str) -> str:
    return f"{FOLDER}/{draft_id}"


def _digest(browser: str) -> str:
    return hashlib.sha256(browser.encode()).hexdigest()


def _scan(store: PhotoStore) -> dict[str, Any]:
    """Forget drafts nobody came back for within a day (their files' times are the store's),
    and measure the others."""
    limit = time.time() - KEEP_SECONDS
    drafts: dict[str, list[StoredKey]] = {}
    for entry in store.listed(FOLDER):
        parts = entry.key.split("/")
        if len(parts) == 3:  # drafts/<id>/<file>; the tally beside them is not a draft
            drafts.setdefault(parts[1], []).append(entry)
    total = count = 0
    for draft_id, files in drafts.items():
        if max(f.modified for f in files) < limit:
            _remove(store, _folder(draft_id))
        else:
            total += sum(f.size for f in files)
            count += 1
    return {"bytes": total, "count": count}


@contextmanager
def _locked(store: PhotoStore) -> Iterator[None]:
    """The drafts' tally, one keep at a time across the server's processes. Several servers
    sharing an object store each count on their own between scans (one keep at a time in
    each process): the caps hold roughly."""
    if not isinstance(store, LocalPhotoStore):
        with _TALLY_IN_THIS_PROCESS:
            yield
        return
    root = store.path(FOLDER)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _reserve(store: PhotoStore, need: int) -> bool:
    """Count a new draft of at most `need` bytes in, if the drafts have room for it."""
    now = db.clock().now().timestamp()
    with _locked(store):
        try:
            tally = json.loads(store.read(TALLY))
            stale = not 0 <= now - float(tally["scanned"]) < SCAN_SECONDS
            used, count = int(tally["bytes"]), int(tally["count"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            stale = True
        if stale:
            measured = _scan(store)
            used, count = measured["bytes"], measured["count"]
            tally = {"scanned": now}
        if count >= MAX_DRAFTS or used + need > MAX_TOTAL_BYTES:
            if stale:
                tally.update(bytes=used, count=count)
                _rewrite(store, TALLY, json.dumps(tally).encode())
            return False
        tally.update(bytes=used + need, count=count + 1)
        _rewrite(store, TALLY, json.dumps(tally).encode())
    return True


def _rewrite(store: PhotoStore, key: str, data: bytes) -> None:
    """Put a file that changes. The data folder's files are otherwise written once (a put of
    a name already there only touches it), so the old one goes first, under the tally's lock;
    an object store's put replaces it whole."""
    if isinstance(store, LocalPhotoStore):
        store.delete(key)
    store.put(key, data)


def _fields(request: Request, template: FormTemplate) -> list[tuple[str, str]]:
    """The form's fields worth keeping: the checklist's items and the form's own, bounded."""
    limits = {key: MAX_VALUE_CHARS for key in FORM_FIELDS}
    for item in template.spec.items:
        if item.type != "photo":
            limits[item.key] = max(MAX_VALUE_CHARS, item.max_length)
    fields: list[tuple[str, str]] = []
    per_key: dict[str, int] = {}
    chars = 0
    for key, value in request.form.items(multi=True):
        limit = limits.get(key)
        if limit is None and is_roster_field(template.spec, key):
            limit = MAX_VALUE_CHARS  # one worker's answer on a roster (staff.12.duty)
        if limit is None or len(value) > limit or per_key.get(key, 0) >= MAX_VALUES:
            continue
        if chars + len(value) > MAX_FIELD_CHARS:
            break
        per_key[key] = per_key.get(key, 0) + 1
        chars += len(value)
        fields.append((key, value))
    return fields


def _save_photos(
    sent: list[tuple[str, FileStorage]], photo_items: dict[str, int], store: PhotoStore, folder: str
) -> list[tuple[str, str]]:
    """The photos sent for the checklist's photo items, each item's up to its own count."""
    photos: list[tuple[str, str]] = []
    per_item: dict[str, int] = {}
    for item, file in sent:
        if (
            file.filename
            and len(photos) < MAX_PHOTOS
            and per_item.get(item, 0) < photo_items.get(item, 0)
        ):
            name = f"photo-{len(photos)}"
            store.put(f"{folder}/{name}", file.read())
            photos.append((item, name))
            per_item[item] = per_item.get(item, 0) + 1
    return photos


def keep(request: Request, place: str, template: FormTemplate) -> str | None:
    """Keep the request's answers and photos for `place` (the form's path), for the browser
    that sent them; returns the id, or None when the drafts have no room."""
    store = db.photo_store()
    fields = _fields(request, template)
    photo_items = {
        item.key: item.max_photos for item in template.spec.items if item.type == "photo"
    }
    sent = [(item, file) for item, file in request.files.items(multi=True)]
    browser = request.cookies.get(COOKIE, "")
    if not DRAFT_RE.fullmatch(browser):
        browser = secrets.token_urlsafe(32)
    draft_id = secrets.token_urlsafe(16)
    folder = _folder(draft_id)
    try:
        try:
            body = request.content_length or current_app.config["MAX_CONTENT_LENGTH"] or 0
            if not _reserve(store, body + FIELDS_BYTES):
                return None
            photos = _save_photos(sent, photo_items, store, folder)
            kept = {
                "place": place,
                "browser": _digest(browser),
                # Known when only the page expired (logged in again by the remember cookie).
                "person": str(current_user.id) if current_user.is_authenticated else None,
                "fields": fields,
                "photos": photos,
            }
            # Written last: a draft whose photos were written but not this is never opened,
            # and the next scan a day later forgets it.
            store.put(f"{folder}/{DRAFT_FILE}", json.dumps(kept, ensure_ascii=False).encode())
        except Exception:
            # The disk is full or the object store is away: nothing kept, the page says it
            # expired (what the person sent is gone either way; no error page on top of it).
            log.warning("a draft could not be kept", exc_info=True)
            _remove(store, folder)
            return None
    finally:
        for _, file in sent:
            file.close()
    secure = bool(current_app.config["SESSION_COOKIE_SECURE"])

    @after_this_request
    def _remember(response: Response) -> Response:
        response.set_cookie(
            COOKIE,
            browser,
            max_age=KEEP_SECONDS,
            path="/s/",
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
        return response

    return draft_id


def load(draft_id: str | None, place: str) -> Draft | None:
    """The draft kept for this form, if the id is well-formed, still here, for this form and
    sent from this browser (and by this person, if they were known when it was kept)."""
    if not draft_id or not DRAFT_RE.fullmatch(draft_id):
        return None
    browser = current_request.cookies.get(COOKIE, "")
    if not DRAFT_RE.fullmatch(browser):
        return None
    store = db.photo_store()
    folder = _folder(draft_id)
    try:
        kept = json.loads(store.read(f"{folder}/{DRAFT_FILE}").decode("utf-8"))
        if kept.get("place") != place:
            return None
        if not hmac.compare_digest(str(kept.get("browser", "")), _digest(browser)):
            return None
        person = kept.get("person")
        if person is not None and (
            not current_user.is_authenticated or person != str(current_user.id)
        ):
            return None
        photos: dict[str, list[bytes]] = {}
        for item, name in kept["photos"]:
            photos.setdefault(item, []).append(store.read(f"{folder}/{name}"))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    except Exception:
        # The object store is away: the form opens empty rather than not at all.
        log.warning("a kept draft could not be read", exc_info=True)
        return None
    return Draft(values=MultiDict(kept["fields"]), photos=photos)


def discard(draft_id: str | None) -> None:
    """Forget a draft (its record was filed). A store that fails here fails nobody: the record
    stands and the draft is forgotten a day later."""
    if draft_id and DRAFT_RE.fullmatch(draft_id):
        _remove(db.photo_store(), _folder(draft_id))


def _remove(store: PhotoStore, folder: str) -> None:
    try:
        for entry in list(store.listed(folder)):
            store.delete(entry.key)
    except Exception:
        log.warning("a draft could not be removed; it expires with the others", exc_info=True)
        return
    if isinstance(store, LocalPhotoStore):
        with suppress(OSError):
            store.path(folder).rmdir()
