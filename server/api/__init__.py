"""The HTTP API: sync for terminals, administration for people; helpers shared by both."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar, cast

from flask import current_app, g, request
from sqlalchemy import Engine

from server.accounts import Principal, authenticate, valid_school_id
from server.app import ApiError, state
from sync.wire import WireError, read_json_object

F = TypeVar("F", bound=Callable[..., Any])


def fail(code: int, message: str) -> NoReturn:
    """Abort with a JSON error whose Russian message says what is wrong."""
    raise ApiError(code, message)


def engine() -> Engine:
    return state(current_app).engine


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object (whatever the Content-Type); an empty body is ``{}`` if `optional`.

    400 says why a body is refused: not UTF-8, not JSON (where), nested too deep for the parser, not
    an object. A body above CANTEEN_MAX_CONTENT_LENGTH is refused by Werkzeug with 413 when read."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        fail(400, "тело запроса пустое; ожидается объект JSON")
    try:
        data = read_json_object(raw)
    except WireError as exc:
        fail(400, exc.message)
    if (NUL_ESCAPE in raw or b"\x00" in raw) and _has_nul(data):  # \x00 bytes: UTF-16 or UTF-32
        fail(400, "тело запроса: знак NUL (\\u0000) в тексте не допускается")
    return data


NUL_ESCAPE = b"\\u0000"
"""How JSON writes the NUL character, which PostgreSQL cannot store in text: a body with it is refused
whole, on SQLite too (a push of such an event is split by the terminal until that event is rejected)."""


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:  # iterative: the body may nest as deep as the parser allowed
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def principal() -> Principal:
    who: Principal = g.principal
    return who


def requires(kind: str) -> Callable[[F], F]:
    """Only callers with a valid bearer token of this kind ("terminal" or "admin")."""
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                fail(401, "нужен токен доступа: заголовок Authorization: Bearer <токен>")
            with engine().connect() as conn:
                who = authenticate(conn, token.strip())
            if who is None:
                fail(401, "токен недействителен или отозван")
            if who.kind != kind:
                fail(403, "этот токен не даёт доступа к этому адресу")
            school_id = kwargs.get("school_id")
            if school_id is not None and not valid_school_id(school_id):
                fail(404, "школа не найдена: такого кода школы не бывает")
            if school_id is not None and not who.may_see(school_id):
                fail(403, f"нет доступа к школе {school_id}")
            g.principal = who
            g.token = token.strip()
            return view(*args, **kwargs)
        return cast(F, wrapped)
    return decorator
