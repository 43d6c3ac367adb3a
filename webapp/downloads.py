"""Files a page hands over to keep: the download response, and a print page drawn as PDF.

The ledgers and the food-safety reports print from their own HTML; WeasyPrint turns that
same HTML into the PDF, so paper and file never disagree.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response


def download(data: bytes, name: str, mimetype: str) -> Response:
    """A file saved under its own (Chinese) name, kept out of shared caches."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def pdf_of(html: str) -> bytes:
    """The print page as PDF. Its pictures are in the page itself: the renderer fetches
    nothing else (no file, no address a page could name)."""
    from weasyprint import HTML, URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf() or b""


def pdf_download(html: str, name: str) -> Response:
    return download(pdf_of(html), name, "application/pdf")
