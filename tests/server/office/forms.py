"""Reading the office's forms in page tests: the CSRF token and a hidden field's value."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def field(page: str, name: str) -> str:
    """The value of the input `name` in the page's HTML."""
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, page
    return match[1]


def token_in(page: str) -> str:
    """The CSRF token of a form in the page's HTML."""
    return field(page, "csrf_token")


def csrf(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on the page at `url` (fetched with the client's session)."""
    return token_in(client.get(url).get_data(as_text=True))
