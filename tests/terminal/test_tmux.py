"""The real ``canteen terminal --demo`` in tmux: keys sent with send-keys, the screen read with capture-pane."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]

CANTEEN = Path(sys.executable).parent / "canteen"


class Pane:
    def __init__(self, session: str) -> None:
        self.session = session

    def send(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)

    def text(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.session], check=True,
                              capture_output=True, text=True).stdout

    def wait_for(self, needle: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.text()
            if needle in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"«{needle}» never appeared; the screen:\n{self.text()}")


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    session = f"canteen-{uuid.uuid4().hex[:8]}"
    done = tmp_path / "exited"
    command = (f"cd {tmp_path} && {CANTEEN} terminal --demo --db {tmp_path / 'demo.db'} --at '2026-11-23 08:40'"
               f"; echo $? > {done}; sleep 60")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "40", command], check=True)
    p = Pane(session)
    p.done = done  # type: ignore[attr-defined]
    try:
        yield p
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def test_the_demo_serves_a_breakfast_break_in_a_real_terminal(pane: Pane) -> None:
    pane.wait_for("Приложите карту", timeout=30)
    for needle in ("ДЕМО-ЧАСЫ", "23.11.2026 08:4", "Сейчас: Завтрак"):
        pane.wait_for(needle)
    pane.wait_for("Считыватель: подключён")
    for _ in range(3):
        pane.send("Space")
        time.sleep(0.3)
    screen = pane.wait_for("Бесплатно: завтрак")
    assert "█" in screen  # the headline in block letters
    assert "к отправке: 3" in pane.wait_for("к отправке: 3")

    pane.send("F4")  # undo the last serve
    pane.wait_for("Отменить последнюю выдачу")
    pane.send("Enter")
    pane.wait_for("Отменена выдача")

    pane.send("F9")  # the simulated reader unplugged
    pane.wait_for("СЧИТЫВАТЕЛЬ ОТКЛЮЧЁН")
    pane.send("F9")
    deadline = time.monotonic() + 10
    while "СЧИТЫВАТЕЛЬ ОТКЛЮЧЁН" in pane.text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "СЧИТЫВАТЕЛЬ ОТКЛЮЧЁН" not in pane.text()

    pane.send("F2")  # a forgotten card, found by name
    pane.wait_for("Найти ученика")
    pane.send("-l", "4б")  # nobody of 4б has eaten yet
    time.sleep(0.5)
    pane.send("Enter")
    pane.wait_for("Выдать без карты")
    pane.send("Enter")
    pane.wait_for("Выдано без карты: Нет карты с собой")

    pane.send("C-q")
    deadline = time.monotonic() + 10
    done: Path = pane.done  # type: ignore[attr-defined]
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done.exists(), "the terminal did not exit on Ctrl+Q (a reader thread left running?)"
    assert done.read_text().strip() == "0"
