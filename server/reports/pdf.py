"""PDF from the same HTML a register's page prints (WeasyPrint; its Debian libraries come with the set-up)."""

from __future__ import annotations


def to_pdf(html: str, base_url: str | None = None) -> bytes:
    """The HTML (with its print CSS) as an A4 PDF."""
    from weasyprint import HTML  # imported on use: a slow import that only exports need

    data = HTML(string=html, base_url=base_url).write_pdf()
    assert isinstance(data, bytes)
    return data
