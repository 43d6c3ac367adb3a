"""Unguessable label tokens and the URLs printed into QR codes."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

TOKEN_BYTES = 24
"""Random bytes per token: 192 bits, encoded as 32 URL-safe characters."""

_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")


def new_token() -> str:
    """Return a fresh random URL-safe token (192 bits of entropy)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    """Tell whether value has the shape of a token (URL-safe alphabet, 22 to 64 characters)."""
    return _TOKEN_RE.fullmatch(value) is not None


def label_url(base_url: str, token: str) -> str:
    """Return the exact URL a label's QR code holds: ``{base_url}/s/{token}``."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base URL must be an absolute http(s) URL, got {base_url!r}")
    if not looks_like_token(token):
        raise ValueError(f"not a label token: {token!r}")
    return f"{base_url.rstrip('/')}/s/{token}"
