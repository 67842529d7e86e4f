"""Who may call the API: schools, enrolled terminals with their tokens, administrators and logins.

Tokens are random (192 bits) and stored only as SHA-256 hashes: a leaked database does not leak
working tokens, and a slow password hash is unnecessary for secrets that cannot be guessed. A
token names its owner before the dot (``<terminal id>.<secret>``, ``adm-<session>.<secret>``), so
checking it is one primary-key lookup and a constant-time compare.

Passwords can be guessed, so failed logins are counted per login name and per client address in
the database (every worker sees them); past the limit, logins are refused until the window passes.
Setting an administrator's password ends every session of that administrator.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, delete, func, insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from pos.policy import PolicyError, parse_policy
from server.models import Admin, AdminSession, LoginFailure, School, Terminal

# A school id is a short slug: it names URLs, files and the school's terminals ("<school>-T<n>", at most
# 32 + 2 + 4 characters since a number that is taken becomes 4 hex digits: well inside the 64-character
# columns), and it may not start like an administrator's token ("adm-<session>.<secret>").
SCHOOL_ID = re.compile(r"(?!adm-)[a-z0-9][a-z0-9_-]{0,31}")
TERMINAL_ID = re.compile(rf"{SCHOOL_ID.pattern}-T[0-9a-f]{{1,16}}")
SCHOOL_ID_RULE = ("код школы: от 1 до 32 знаков — строчные латинские буквы, цифры, «-» и «_», первый знак — "
                  "буква или цифра, не начинается с «adm-» (например nazarovo-3)")


def valid_school_id(value: object) -> bool:
    return isinstance(value, str) and SCHOOL_ID.fullmatch(value) is not None


def valid_terminal_id(value: object) -> bool:
    return isinstance(value, str) and TERMINAL_ID.fullmatch(value) is not None


class AccountError(ValueError):
    """A request about schools, terminals or admins that cannot be done (Russian message)."""


@dataclass(frozen=True)
class Principal:
    """The caller of a request: a terminal (of one school) or an administrator."""

    kind: str  # "terminal" | "admin"
    name: str  # terminal id or admin login
    school_id: str | None  # the terminal's school; an admin's school, None = all schools

    def may_see(self, school_id: str) -> bool:
        return self.school_id is None or self.school_id == school_id


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_school(conn: Connection, *, school_id: str, name: str, timezone: str, policy_text: str,
               week_days: str = "1,2,3,4,5", window_early_min: int = 10, window_late_min: int = 10,
               refuse_outside_window: bool = False, actor: str = "system") -> None:
    """Create a school, or update its settings if it exists (the settings are pulled by its terminals); its
    policy is also kept as the school's policy of the school year the file states."""
    if not valid_school_id(school_id):
        raise AccountError(SCHOOL_ID_RULE)
    if not name.strip() or len(name) > 300 or "\x00" in name:
        raise AccountError("название школы: от 1 до 300 символов")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError(f"неизвестный часовой пояс {timezone!r} (пример: Asia/Krasnoyarsk)") from None
    try:
        policy = parse_policy(policy_text, f"policy:{school_id}")
    except PolicyError as exc:
        raise AccountError(f"политика питания не прошла проверку: {exc}") from None
    parts = [d.strip() for d in week_days.split(",") if d.strip()]
    if not parts or any(d not in {"1", "2", "3", "4", "5", "6", "7"} for d in parts):
        raise AccountError("учебные дни недели: числа 1..7 через запятую (1 = понедельник)")
    days = sorted({int(d) for d in parts})
    values = {"name": name, "timezone": timezone, "policy_text": policy_text,
              "week_days": ",".join(map(str, days)), "window_early_min": window_early_min,
              "window_late_min": window_late_min, "refuse_outside_window": refuse_outside_window}
    exists = conn.execute(select(School.rev).where(School.id == school_id)).scalar()
    if exists is None:
        conn.execute(insert(School).values(id=school_id, rev=1, settings_rev=1, **values))
    else:
        conn.execute(update(School).where(School.id == school_id)
                     .values(rev=School.rev + 1, settings_rev=School.rev + 1, **values))
    from server.office.history import store_policy  # the one writer of a year's policy (imports this module)

    store_policy(conn, actor, school_id, policy, policy_text)


def enroll_terminal(conn: Connection, school_id: str, *, name: str = "") -> tuple[str, str]:
    """A new terminal of a school: (terminal id, the one-time token shown once to the administrator)."""
    if not valid_school_id(school_id) or conn.execute(
            select(School.id).where(School.id == school_id)).scalar() is None:
        raise AccountError(f"школа {school_id!r} не найдена")
    count = conn.execute(select(func.count()).select_from(Terminal).where(Terminal.school_id == school_id)).scalar()
    terminal_id = f"{school_id}-T{(count or 0) + 1}"
    while conn.execute(select(Terminal.id).where(Terminal.id == terminal_id)).scalar() is not None:
        terminal_id = f"{school_id}-T{secrets.token_hex(2)}"
    token = f"{terminal_id}.{secrets.token_urlsafe(24)}"
    conn.execute(insert(Terminal).values(id=terminal_id, school_id=school_id, name=name, token_hash=_hash(token),
                                         created_at=utcnow()))
    return terminal_id, token


def revoke_terminal(conn: Connection, terminal_id: str) -> None:
    done = conn.execute(update(Terminal).where(Terminal.id == terminal_id, Terminal.revoked_at.is_(None))
                        .values(revoked_at=utcnow())).rowcount
    if not done:
        raise AccountError(f"терминал {terminal_id!r} не найден или уже отозван")


def add_admin(conn: Connection, login: str, password: str, *, school_id: str | None = None) -> None:
    if not login or len(login) > 64:
        raise AccountError("логин: от 1 до 64 символов")
    if len(password) < 8:
        raise AccountError("пароль: не короче 8 символов")
    if school_id and conn.execute(select(School.id).where(School.id == school_id)).scalar() is None:
        raise AccountError(f"школа {school_id!r} не найдена")
    # A new password must lock out whoever had the old one: end the sessions explicitly rather than
    # trust the foreign key's cascade (SQLite enforces it only with PRAGMA foreign_keys).
    conn.execute(delete(AdminSession).where(AdminSession.login == login))
    conn.execute(delete(Admin).where(Admin.login == login))
    conn.execute(insert(Admin).values(login=login, password_hash=generate_password_hash(password),
                                      school_id=school_id, created_at=utcnow()))


@functools.cache
def dummy_hash() -> str:
    """A hash of no one's password, made like the real ones, to check unknown logins against."""
    return generate_password_hash(secrets.token_urlsafe(16))


def login(conn: Connection, login_name: str, password: str, *, hours: float) -> tuple[str, datetime] | None:
    """A bearer token for an administrator, or None for a wrong login or password.

    An unknown login costs the same hash check as a known one, so the answer's time does not tell
    which logins exist."""
    row = conn.execute(select(Admin.password_hash).where(Admin.login == login_name)).first()
    matches = check_password_hash(row[0] if row is not None else dummy_hash(), password)
    if row is None or not matches:
        return None
    session_id = secrets.token_hex(8)
    token = f"adm-{session_id}.{secrets.token_urlsafe(24)}"
    expires = utcnow() + timedelta(hours=hours)
    conn.execute(delete(AdminSession).where(AdminSession.expires_at < utcnow()))
    conn.execute(insert(AdminSession).values(id=session_id, login=login_name, token_hash=_hash(token),
                                             expires_at=expires))
    return token, expires


def end_session(conn: Connection, token: str) -> None:
    """Log out: the administrator's bearer token stops working (nothing happens for other tokens)."""
    owner, _, _secret = token.rpartition(".")
    if owner.startswith("adm-"):
        conn.execute(delete(AdminSession).where(AdminSession.id == owner[4:],
                                                AdminSession.token_hash == _hash(token)))


@dataclass(frozen=True)
class LoginLimits:
    """At most `per_login` failed logins of one name and `per_ip` from one address within `window`."""

    per_login: int = 10
    per_ip: int = 30
    window: timedelta = timedelta(minutes=10)


def _key(value: str) -> str:
    return value[:64]  # the columns' width; an admin's login is at most 64 characters anyway


def login_throttled(conn: Connection, login_name: str, ip: str, limits: LoginLimits,
                    now: datetime | None = None) -> timedelta | None:
    """How long this login must wait (too many recent failures of the name or the address), or None."""
    now = now or utcnow()
    since = now - limits.window
    waits = []
    for column, value, limit in ((LoginFailure.login, _key(login_name), limits.per_login),
                                 (LoginFailure.ip, _key(ip), limits.per_ip)):
        recent = conn.execute(select(LoginFailure.at).where(column == value, LoginFailure.at > since)
                              .order_by(LoginFailure.at.desc()).limit(limit)).scalars().all()
        if len(recent) >= limit:
            # Allowed again when the limit-th latest failure leaves the window.
            waits.append(recent[-1] + limits.window - now)
    return max(waits) if waits else None


def record_login_failure(conn: Connection, login_name: str, ip: str, limits: LoginLimits,
                         now: datetime | None = None) -> None:
    now = now or utcnow()
    conn.execute(delete(LoginFailure).where(LoginFailure.at <= now - limits.window))
    conn.execute(insert(LoginFailure).values(login=_key(login_name), ip=_key(ip), at=now))


def authenticate(conn: Connection, token: str) -> Principal | None:
    """The owner of a bearer token, or None (unknown, revoked, expired or forged)."""
    owner, dot, _secret = token.rpartition(".")
    if not dot or not owner or len(token) > 200 or not (token.isascii() and token.isprintable()):
        return None  # tokens we make are printable ASCII; PostgreSQL refuses a NUL in a query
    digest = _hash(token)
    if owner.startswith("adm-"):
        row = conn.execute(
            select(AdminSession.token_hash, AdminSession.expires_at, Admin.login, Admin.school_id)
            .join(Admin, Admin.login == AdminSession.login).where(AdminSession.id == owner[4:])).first()
        if row is None or row.expires_at < utcnow() or not hmac.compare_digest(row.token_hash, digest):
            return None
        return Principal("admin", row.login, row.school_id)
    trow = conn.execute(select(Terminal.token_hash, Terminal.school_id, Terminal.revoked_at)
                        .where(Terminal.id == owner)).first()
    if trow is None or trow.revoked_at is not None or not hmac.compare_digest(trow.token_hash, digest):
        return None
    return Principal("terminal", owner, trow.school_id)
