"""The notices worker against a real SMTP server (aiosmtpd on loopback): the letter arrives as queued, a mail
server that is down loses nothing and the notice goes exactly once when it is back, two workers never send
the same notice, and `canteen server notices send --once` does the same from the command line."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import Engine, insert, select

from pos.cli import main
from server import notice_sender, notices
from server.accounts import utcnow
from server.config import ConfigError
from server.models import Notice
from server.notice_sender import SmtpConfig, send_due
from server.office import roster
from server.office.roles import Grant, Role, Scope
from server.office.users import add_user
from tests.server.kit import free_port, seed_school

MAMA = "mama@example.ru"
REFUSED = "nobody@example.ru"


class Inbox:
    """aiosmtpd's handler: keeps every letter received (envelope recipients, the parsed message); refuses
    mailboxes named `REFUSED` as a real server refuses an unknown one."""

    def __init__(self) -> None:
        self.letters: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.letters.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


class Smtp:
    def __init__(self, port: int) -> None:
        self.port, self.inbox = port, Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self.port, sender="pitanie@school.example.ru")


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    """A real SMTP server on a free loopback port, not started yet (`start()`), stopped at the end."""
    server = Smtp(free_port())
    try:
        yield server
    finally:
        server.stop()


def _blocked_card_notice(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        add_user(conn, MAMA, grants=[Grant(Role.PARENT, Scope.STUDENT, "sch1", "s1")])
        roster.block_card(conn, "coordinator", "sch1", "EM:0000000001", "утеряна")


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Notice).order_by(Notice.id)).all())


def test_a_queued_notice_arrives_as_a_utf8_letter_to_the_parent(engine: Engine, smtp: Smtp) -> None:
    _blocked_card_notice(engine)
    smtp.start()
    assert send_due(engine, smtp.config) == notice_sender.Outcome(sent=1)
    [(recipients, letter)] = smtp.inbox.letters
    assert recipients == [MAMA] and letter["To"] == MAMA and letter["From"] == "pitanie@school.example.ru"
    assert letter["Subject"] == "Карта заблокирована: Иванов Иван"
    assert letter.get_content_type() == "text/plain" and letter.get_content_charset() == "utf-8"
    body = letter.get_content()
    assert "Карта EM:0000000001 ученика Иванов Иван заблокирована школой" in body
    assert "Причина: утеряна." in body and "http://localhost:5000/parent/notices" in body
    assert "@school.example.ru>" in letter["Message-ID"] and "notice-1" in letter["Message-ID"]
    [row] = _rows(engine)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None and row.next_try_at is None
    assert send_due(engine, smtp.config) == notice_sender.Outcome()  # sent once
    assert len(smtp.inbox.letters) == 1


def test_a_mail_server_that_is_down_loses_nothing_and_the_notice_goes_once_when_it_is_back(
        engine: Engine, smtp: Smtp) -> None:
    _blocked_card_notice(engine)
    before = utcnow()
    assert send_due(engine, smtp.config) == notice_sender.Outcome(failed=1)  # nothing listens on the port
    [row] = _rows(engine)
    assert row.sent_at is None and row.attempts == 1 and "нет связи с почтовым сервером" in row.last_error
    assert row.next_try_at >= before + timedelta(minutes=1)
    smtp.start()
    assert send_due(engine, smtp.config) == notice_sender.Outcome()  # not due yet: the backoff holds
    assert smtp.inbox.letters == []
    later = row.next_try_at + timedelta(seconds=1)
    assert send_due(engine, smtp.config, now=later) == notice_sender.Outcome(sent=1)
    assert send_due(engine, smtp.config, now=later + timedelta(hours=1)) == notice_sender.Outcome()
    assert [r for r, _ in smtp.inbox.letters] == [[MAMA]]
    [row] = _rows(engine)
    assert row.sent_at is not None and row.attempts == 2


def test_failures_back_off_one_five_fifteen_sixty_minutes_then_a_capped_wait() -> None:
    assert [notice_sender.backoff(n) for n in range(1, 8)] == [
        timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 360)]


def test_a_refused_recipient_is_retried_later_and_the_others_still_go(engine: Engine, smtp: Smtp) -> None:
    seed_school(engine)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(Notice), [
            {"recipient": to, "kind": notices.CARD_BLOCKED, "subject": f"тема {n}", "body": "текст", "created": now,
             "attempts": 0, "next_try_at": now} for n, to in enumerate([REFUSED, MAMA])])
    smtp.start()
    assert send_due(engine, smtp.config) == notice_sender.Outcome(sent=1, failed=1)
    bad, good = _rows(engine)
    assert bad.sent_at is None and bad.attempts == 1 and bad.next_try_at > now
    assert "SMTPRecipientsRefused" in bad.last_error and "no such mailbox" in bad.last_error
    assert good.sent_at is not None
    assert [letter["Subject"] for _, letter in smtp.inbox.letters] == ["тема 1"]


def test_a_notice_that_never_goes_is_given_up_after_the_last_attempt(engine: Engine, smtp: Smtp) -> None:
    seed_school(engine)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(Notice).values(recipient=MAMA, kind=notices.CARD_BLOCKED, subject="т", body="т",
                                           created=now, attempts=notice_sender.MAX_ATTEMPTS - 1, next_try_at=now))
    assert send_due(engine, smtp.config).failed == 1  # the server is down
    [row] = _rows(engine)
    assert row.attempts == notice_sender.MAX_ATTEMPTS and row.next_try_at is None and row.sent_at is None
    smtp.start()
    assert send_due(engine, smtp.config, now=now + timedelta(days=30)) == notice_sender.Outcome()


def test_two_workers_at_once_send_every_notice_exactly_once(engine: Engine, smtp: Smtp) -> None:
    seed_school(engine)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(Notice), [
            {"recipient": MAMA, "kind": notices.BALANCE_LOW, "subject": f"письмо {n}", "body": "текст",
             "created": now, "attempts": 0, "next_try_at": now} for n in range(60)])
    smtp.start()
    start = threading.Barrier(2)
    totals: list[notice_sender.Outcome] = []

    def worker() -> None:
        start.wait()
        totals.append(notice_sender.run(engine, smtp.config, once=True))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    subjects = sorted(letter["Subject"] for _, letter in smtp.inbox.letters)
    assert subjects == sorted(f"письмо {n}" for n in range(60))
    assert sum(t.sent for t in totals) == 60 and all(t.failed == 0 for t in totals)
    assert all(r.sent_at is not None and r.attempts == 1 for r in _rows(engine))


def test_on_postgresql_a_worker_skips_the_rows_another_is_taking(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer at a time in (BEGIN IMMEDIATE): there is nothing to skip")
    seed_school(engine)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(Notice), [{"recipient": MAMA, "kind": notices.BALANCE_LOW, "subject": str(n),
                                       "body": "т", "created": now, "attempts": 0, "next_try_at": now}
                                      for n in range(6)])
    with engine.connect() as a, engine.connect() as b, a.begin(), b.begin():
        first = {r.id for r in notice_sender.claim(a, now, limit=4)}
        second = {r.id for r in notice_sender.claim(b, now, limit=4)}  # does not wait for a's locks
    assert len(first) == 4 and len(second) == 2 and not first & second


def test_the_smtp_settings_come_from_the_environment() -> None:
    config = SmtpConfig.from_env({"CANTEEN_SMTP_HOST": "smtp.example.ru", "CANTEEN_SMTP_PORT": "587",
                                  "CANTEEN_SMTP_USER": "u", "CANTEEN_SMTP_PASSWORD": "p",
                                  "CANTEEN_SMTP_FROM": "pitanie@example.ru", "CANTEEN_SMTP_STARTTLS": "1"})
    assert config == SmtpConfig("smtp.example.ru", 587, "u", "p", "pitanie@example.ru", True)
    assert SmtpConfig.from_env({}) == SmtpConfig()
    with pytest.raises(ConfigError, match="CANTEEN_SMTP_PORT: ожидается номер порта"):
        SmtpConfig.from_env({"CANTEEN_SMTP_PORT": "25a"})


def test_the_command_sends_the_queue_once(db_url: str, engine: Engine, smtp: Smtp) -> None:
    _blocked_card_notice(engine)
    smtp.start()
    env = {"CANTEEN_DATABASE_URL": db_url, "CANTEEN_SMTP_HOST": "127.0.0.1", "CANTEEN_SMTP_PORT": str(smtp.port),
           "CANTEEN_SMTP_FROM": "pitanie@school.example.ru"}
    result = CliRunner().invoke(main, ["server", "notices", "send", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "Отправлено: 1" in result.output and [r for r, _ in smtp.inbox.letters] == [[MAMA]]
    again = CliRunner().invoke(main, ["server", "notices", "send", "--once"], env=env)
    assert "Отправлять нечего." in again.output and len(smtp.inbox.letters) == 1
    bad = CliRunner().invoke(main, ["server", "notices", "send", "--once"], env={**env, "CANTEEN_SMTP_PORT": "x"})
    assert bad.exit_code == 1 and "CANTEEN_SMTP_PORT" in bad.output
