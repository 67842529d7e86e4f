"""The worker that sends the queued notices (`server.notices`) by SMTP: `canteen server notices send [--once]`.

Configuration from the environment:

- CANTEEN_SMTP_HOST: the mail server (default ``localhost``).
- CANTEEN_SMTP_PORT: its port (default 25; 587 with STARTTLS is usual).
- CANTEEN_SMTP_USER, CANTEEN_SMTP_PASSWORD: the login, if the server wants one (default: none).
- CANTEEN_SMTP_FROM: the sender's address (default ``canteen@localhost``).
- CANTEEN_SMTP_STARTTLS: 1 to switch to TLS (STARTTLS) before logging in (default 0).
- CANTEEN_PUBLIC_URL: the address of the parent pages the letters link to (default http://localhost:5000);
  read where the notices are written (the server's processes), since a letter's text is made then.

A worker takes due notices by a conditional UPDATE that moves their `next_try_at` ahead by `LEASE` (on
PostgreSQL after ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite's ``BEGIN IMMEDIATE`` makes writers take turns),
so two workers never take the same notice, and a worker killed mid-send leaves it to be retried after the
lease. Each result is written as soon as the server answers: sent, or the error and the next try after
`BACKOFF_MIN` (1, 5, 15, 60 minutes… capped at 6 hours); after `MAX_ATTEMPTS` a notice is given up
(kept with its last error). A mail server that is down loses nothing: the notices wait in the database.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from server.accounts import utcnow
from server.config import ConfigError
from server.db import unavailable
from server.models import Notice

BACKOFF_MIN = (1, 5, 15, 60, 180, 360)  # the wait after the 1st, 2nd… failed attempt; the last one repeats
MAX_ATTEMPTS = 30  # about a week of retries
LEASE = timedelta(minutes=10)  # a taken notice is retried after this if its worker dies mid-send
BATCH = 20
SMTP_TIMEOUT_S = 20.0
ERROR_MAX = 2000


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    sender: str = "canteen@localhost"
    starttls: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpConfig:
        """The settings from CANTEEN_SMTP_*; ConfigError (Russian) names a variable that cannot be used."""
        env = os.environ if env is None else env
        port_text = env.get("CANTEEN_SMTP_PORT", "").strip() or str(cls.port)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"CANTEEN_SMTP_PORT: ожидается номер порта от 1 до 65535, а не {port_text!r}")
        return cls(host=env.get("CANTEEN_SMTP_HOST", "").strip() or cls.host, port=int(port_text),
                   user=env.get("CANTEEN_SMTP_USER", ""), password=env.get("CANTEEN_SMTP_PASSWORD", ""),
                   sender=env.get("CANTEEN_SMTP_FROM", "").strip() or cls.sender,
                   starttls=env.get("CANTEEN_SMTP_STARTTLS", "0").strip().lower() in {"1", "true", "yes", "on"})


@dataclass(frozen=True)
class Outcome:
    sent: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failed ones."""
    return timedelta(minutes=BACKOFF_MIN[min(attempts, len(BACKOFF_MIN)) - 1])


def claim(conn: Connection, now: datetime, limit: int = BATCH) -> list[Any]:
    """Take up to `limit` due notices for this worker (in the caller's transaction): each taken row's attempts
    grow by one and its `next_try_at` moves a lease ahead, unless another worker took it first."""
    query = (select(Notice.id, Notice.recipient, Notice.subject, Notice.body, Notice.created, Notice.attempts,
                    Notice.next_try_at)
             .where(Notice.sent_at.is_(None), Notice.next_try_at <= now)
             .order_by(Notice.next_try_at, Notice.id).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = []
    for row in conn.execute(query).all():
        done = conn.execute(update(Notice).where(Notice.id == row.id, Notice.sent_at.is_(None),
                                                 Notice.next_try_at == row.next_try_at)
                            .values(attempts=Notice.attempts + 1, next_try_at=now + LEASE))
        if done.rowcount == 1:
            taken.append(row)
    return taken


def message(config: SmtpConfig, row: Any) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    # One id per notice: a copy sent again after a lost answer is recognisable as the same letter.
    msg["Message-ID"] = make_msgid(idstring=f"notice-{row.id}", domain=config.sender.rpartition("@")[2] or None)
    msg.set_content(row.body, charset="utf-8")
    return msg


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    smtp = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT_S)
    try:
        if config.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.user:
            smtp.login(config.user, config.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _record(engine: Engine, notice_id: int, attempts: int, error: str | None) -> None:
    now = utcnow()
    if error is None:
        values: dict[str, Any] = {"sent_at": now, "next_try_at": None, "last_error": None}
    else:
        retry = None if attempts >= MAX_ATTEMPTS else now + backoff(attempts)
        values = {"next_try_at": retry, "last_error": error[:ERROR_MAX]}
    with engine.begin() as conn:
        conn.execute(update(Notice).where(Notice.id == notice_id, Notice.sent_at.is_(None)).values(**values))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def send_due(engine: Engine, config: SmtpConfig, *, limit: int = BATCH, now: datetime | None = None,
             connect: Callable[[SmtpConfig], smtplib.SMTP] = _connect) -> Outcome:
    """Send one batch of notices due by `now` over one SMTP connection; returns how many were sent and failed."""
    with engine.begin() as conn:
        taken = claim(conn, now or utcnow(), limit)
    if not taken:
        return Outcome()
    sent = failed = 0
    try:
        smtp = connect(config)
    except (OSError, smtplib.SMTPException) as exc:
        for row in taken:
            _record(engine, row.id, row.attempts + 1, f"нет связи с почтовым сервером: {_describe(exc)}")
        return Outcome(0, len(taken))
    try:
        for n, row in enumerate(taken):
            try:
                smtp.send_message(message(config, row))
            except smtplib.SMTPServerDisconnected as exc:
                for rest in taken[n:]:  # the connection is gone: the rest wait for the next run
                    _record(engine, rest.id, rest.attempts + 1, _describe(exc))
                return Outcome(sent, failed + len(taken) - n)
            except (OSError, smtplib.SMTPException) as exc:
                _record(engine, row.id, row.attempts + 1, _describe(exc))
                failed += 1
            else:
                _record(engine, row.id, row.attempts + 1, None)
                sent += 1
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return Outcome(sent, failed)


def run(engine: Engine, config: SmtpConfig, *, once: bool, interval_s: float = 30.0,
        report: Callable[[Outcome], None] = lambda _o: None, warn: Callable[[str], None] = lambda _m: None) -> Outcome:
    """Send until nothing is due (`once`), or forever, sleeping `interval_s` when the queue is empty or the
    database is unavailable (the notices wait in it, so the worker only has to come back)."""
    total = Outcome()
    while True:
        try:
            outcome = send_due(engine, config)
        except Exception as exc:
            if once or not unavailable(exc):
                raise
            warn(f"база данных недоступна, повтор через {interval_s:g} с: {_describe(exc)}"[:ERROR_MAX])
            time.sleep(interval_s)
            continue
        if outcome.sent or outcome.failed:
            report(outcome)
        total = Outcome(total.sent + outcome.sent, total.failed + outcome.failed)
        if outcome.sent + outcome.failed < BATCH or outcome.failed:  # the queue is drained for now
            if once:
                return total
            time.sleep(interval_s)
