"""The text checks every form and spreadsheet row shares: filled in, and not too long.

Every operation checks what it is given and refuses with `SubmissionInvalid`, naming each
field that is wrong, so a form can show the message next to the field. The checks are
separate functions (`clean_*`) so a spreadsheet import checks a row the same way a form does.
"""

from __future__ import annotations

from models.messages import N_, Message

REQUIRED = N_("Fill this in.")
TOO_LONG = N_("At most %(count)d characters.")


def clean_text(
    value: str, field: str, limit: int, errors: dict[str, Message], *, required: bool = True
) -> str:
    value = value.strip()
    if not value:
        if required:
            errors[field] = Message(REQUIRED)
    elif len(value) > limit:
        errors[field] = Message(TOO_LONG, {"count": limit})
    return value
