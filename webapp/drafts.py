"""A checklist sent after its login or its page expired is kept, not lost.

When a record form arrives with an expired CSRF token or without a login, its answers and
photos are kept in the data folder under a random draft id for a day; the person logs in
again and lands on the same form, filled in, with the photos kept. Nothing is written to the
database (no lock, no half-record); the draft is dropped when the record is filed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Request, current_app
from werkzeug.datastructures import MultiDict

from models.assets import find_asset_by_token
from webapp import db

DRAFT_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")
KEEP_SECONDS = 24 * 3600
MAX_PHOTOS = 20
# Anyone holding a label's address can send its form logged out: past this, drafts keep
# the answers only, so the data folder cannot be filled through them.
MAX_TOTAL_BYTES = 512 * 1024 * 1024
NOT_KEPT = {"csrf_token", "draft"}
# The forms whose answers are kept: the checklist form of a scanned asset.
KEPT_FORMS = {"scan.file_record"}


def keeps(request: Request) -> bool:
    """Whether this request is a form sent that is worth keeping when it cannot be taken now:
    a checklist of a live label."""
    if request.method != "POST" or request.endpoint not in KEPT_FORMS:
        return False
    token = (request.view_args or {}).get("token", "")
    return find_asset_by_token(db.session(), token) is not None


def back_to(request: Request) -> str:
    """Keep what was sent and return the address of the same form, filled in with it."""
    return f"{request.path}?draft={keep(request, request.path)}"


@dataclass(frozen=True)
class Draft:
    """What was sent: the form's fields and the photos per item."""

    values: MultiDict[str, str]
    photos: dict[str, list[bytes]]


def _root() -> Path:
    return Path(current_app.extensions["houqin.settings"].storage.data_dir).resolve() / "drafts"


def _prune(root: Path) -> int:
    """Forget drafts nobody came back for within a day (file times are the system's); returns
    the bytes the others take."""
    limit = time.time() - KEEP_SECONDS
    total = 0
    for path in root.iterdir():
        try:
            if path.stat().st_mtime < limit:
                shutil.rmtree(path, ignore_errors=True)
            else:
                total += sum(f.stat().st_size for f in path.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            continue
    return total


def keep(request: Request, place: str) -> str:
    """Keep the request's form and photos for `place` (the form's path); returns the id."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    room = MAX_TOTAL_BYTES - _prune(root) - (request.content_length or 0)
    draft_id = secrets.token_urlsafe(16)
    work = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    photos: list[tuple[str, str]] = []
    for item, file in request.files.items(multi=True):
        try:
            if file.filename and len(photos) < MAX_PHOTOS and room > 0:
                name = f"photo-{len(photos)}"
                file.save(work / name)
                photos.append((item, name))
        finally:
            file.close()
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in NOT_KEPT]
    (work / "draft.json").write_text(
        json.dumps({"place": place, "fields": fields, "photos": photos}), encoding="utf-8"
    )
    os.replace(work, root / draft_id)
    return draft_id


def load(draft_id: str | None, place: str) -> Draft | None:
    """The draft kept for this form, if the id is well-formed, still here and for this form."""
    if not draft_id or not DRAFT_RE.fullmatch(draft_id):
        return None
    folder = _root() / draft_id
    try:
        kept = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
        if kept.get("place") != place:
            return None
        photos: dict[str, list[bytes]] = {}
        for item, name in kept["photos"]:
            photos.setdefault(item, []).append((folder / name).read_bytes())
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    return Draft(values=MultiDict(kept["fields"]), photos=photos)


def discard(draft_id: str | None) -> None:
    if draft_id and DRAFT_RE.fullmatch(draft_id):
        shutil.rmtree(_root() / draft_id, ignore_errors=True)
