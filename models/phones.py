"""Phone numbers as people type them: a Chinese mobile is 11 digits starting with 1.

"+86 138 0000 0007", "138-0000-0007", "008613800000007" and full-width digits are all
13800000007, so one mobile is one person and a login works however it is spelt.
"""

from __future__ import annotations

import re
import unicodedata

MOBILE_RE = re.compile(r"1\d{10}")
# A landline with its area code (024-23456789), which a supplier may give instead of a mobile.
LANDLINE_RE = re.compile(r"0\d{2,3}-?\d{7,8}")
_SEPARATORS = re.compile(r"[\s\-()（）.·]")


def _digits(value: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value).strip())


def normalise_mobile(value: str) -> str | None:
    """The 11-digit mobile number in `value`, or None when it is not a Chinese mobile."""
    digits = _digits(value)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if MOBILE_RE.fullmatch(digits) else None


def normalise_contact_phone(value: str) -> str | None:
    """A supplier's phone: a mobile as 11 digits, or a landline with its area code; None if
    it is neither."""
    mobile = normalise_mobile(value)
    if mobile is not None:
        return mobile
    text = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
    if LANDLINE_RE.fullmatch(text):
        return text
    return None
