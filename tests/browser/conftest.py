"""A real office server (werkzeug in a thread, the demo school on SQLite) and Debian's Chromium driven by
Playwright (`playwright install` cannot download here: the browser is the system's)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from server.app import create_app, state
from server.migrate import upgrade
from server.office.demo import build

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="session")
def office_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The live server's database URL (a journey may enroll a terminal or add data the way a push would)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('office') / 'office.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def office_url(office_db: str) -> Iterator[str]:
    app = create_app({"database_url": office_db, "secret_key": "browser-tests"})
    build(state(app).engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        state(app).engine.dispose()


@pytest.fixture(scope="package")  # torn down after tests/browser: Playwright's loop must not outlive it
def browser() -> Iterator[object]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/setup.sh installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def shots() -> Path:
    """Where screenshots go (var/screenshots, outside git) for a person to look at."""
    out = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out
