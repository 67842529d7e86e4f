"""Who may open an office page: sign-in sessions, the idle timeout, CSRF, and the `allow` declaration.

Every view of the office blueprint is wrapped by `allow(*roles, scope=...)` or `public`; the wrapper
records its rule on the view (`view.office_rule`) so a test can walk `app.url_map` and hold every
route × role × own/other school (and class) to its expected answer. `scope="school"` checks the
`school_id` in the URL against the user's grants; `scope="class"` also checks `class_id`;
`scope="student"` needs a student grant naming the URL's `student_id` (a parent's own child);
`scope="district"` checks the `district_id` in the URL against the user's district grants (a district grant
opens no school page); `scope="user"` only needs a signed-in user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, logout_user
from flask_wtf.csrf import CSRFProtect

from server.app import state
from server.office import users
from server.office.roles import Role, permits, permits_student
from server.web.blueprint import bp

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "office.login"
login_manager.login_message = "Войдите, чтобы открыть эту страницу."
login_manager.login_message_category = "info"


class OfficeUser(UserMixin):  # type: ignore[misc]
    """Flask-Login's view of an `Account`; the cookie holds the session key, not the user id."""

    def __init__(self, account: users.Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return self.account.session_key


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load(session_key: str) -> OfficeUser | None:
    with state(current_app).engine.connect() as conn:
        account = users.load(conn, session_key)
    return None if account is None else OfficeUser(account)


def account() -> users.Account:
    """The signed-in user of this request (only inside an `allow`ed view)."""
    return cast(OfficeUser, current_user).account


@dataclass(frozen=True)
class Rule:
    roles: tuple[Role, ...]  # empty: anyone (public) or any signed-in user (scope "user")
    scope: str  # public | user | school | class | student | district
    passive: bool = False  # a background refresh: does not count as activity for the idle timeout


def _declare(rule: Rule, view: F, wrapped: Callable[..., Any]) -> F:
    wrapped.office_rule = rule  # type: ignore[attr-defined]
    return cast(F, wraps(view)(wrapped))


def public(view: F) -> F:
    """Open to anyone (the sign-in page, a one-time link)."""
    return _declare(Rule((), "public"), view, view)


def allow(*roles: Role, scope: str = "school", passive: bool = False) -> Callable[[F], F]:
    """Only signed-in users holding one of `roles` over the URL's school (and class, for scope="class")."""
    if scope not in {"user", "school", "class", "student", "district"}:
        raise ValueError(scope)
    if scope != "user" and not roles:
        raise ValueError("a school or class route names its roles")

    def decorator(view: F) -> F:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if request.headers.get("HX-Request"):  # a background refresh: send the whole page to sign-in
                    return "", 401, {"HX-Redirect": url_for("office.login")}
                if request.path == "/parent" or request.path.startswith("/parent/"):
                    return redirect(url_for("office.parent_login"))  # a parent signs in on the parents' page
                return login_manager.unauthorized()
            if scope == "student":
                school_id, student_id = kwargs.get("school_id"), kwargs.get("student_id")
                if school_id is None or student_id is None:
                    raise LookupError(f"{view.__name__}: scope student needs school_id and student_id in the URL")
                if not permits_student(account().grants, roles, school_id, student_id):
                    abort(403)
            elif scope == "district":
                district_id = kwargs.get("district_id")
                if district_id is None:
                    raise LookupError(f"{view.__name__}: scope district needs district_id in the URL")
                if not permits(account().grants, roles, district_id=district_id):
                    abort(403)
            elif scope != "user":
                grants = account().grants
                school_id = kwargs.get("school_id")
                class_id = kwargs.get("class_id") if scope == "class" else None
                if school_id is None or (scope == "class" and class_id is None):
                    raise LookupError(f"{view.__name__}: scope {scope} needs school_id/class_id in the URL")
                if not permits(grants, roles, school_id=school_id, class_id=class_id):
                    abort(403)
            return view(*args, **kwargs)

        return _declare(Rule(tuple(roles), scope, passive), view, wrapped)

    return decorator


def rule_of(view: Callable[..., Any]) -> Rule | None:
    rule: Rule | None = getattr(view, "office_rule", None)
    return rule


@bp.before_request
def idle_check() -> None:
    """CSRF on every office form; sign out after the idle timeout (background refreshes are not activity)."""
    if request.method not in {"GET", "HEAD", "OPTIONS"} and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    if not current_user.is_authenticated:
        return
    now = datetime.now(UTC).timestamp()
    seen = session.get("seen")
    idle = current_app.config["OFFICE_IDLE"].total_seconds()
    if isinstance(seen, (int, float)) and now - seen > idle:
        logout_user()
        session.clear()
        flash("Сеанс завершён: долго не было действий. Войдите снова.", "info")
        return
    view = current_app.view_functions.get(request.endpoint or "")
    rule = rule_of(view) if view else None
    if rule is None or not rule.passive:
        session["seen"] = now


def init(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
