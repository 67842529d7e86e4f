"""The OpenAPI 3.1 description of the API served at /api/openapi.json (a test checks it against the routes)."""

from __future__ import annotations

from typing import Any

from pos.ledger import EventKind
from server.importer import COLUMNS
from server.mismatches import KINDS
from server.office.reviews import REASONS

_ERROR = {"description": "ошибка", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _op(summary: str, *, auth: str | None, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, ok: str = "200",
        errors: tuple[str, ...] = ("400", "401", "403")) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {ok: {"description": "успех",
                                                                  "content": {"application/json": {}}}}}
    for code in errors:
        op["responses"][code] = _ERROR
    if auth:
        op["security"] = [{"bearer": []}]
        op["description"] = f"Токен: {auth}."
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


def _query(name: str, description: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string"},
            "description": description}


EVENT = {"type": "object",
         "required": ["id", "terminal_id", "seq", "kind", "at_utc", "local_date", "outcome", "reason"],
         "properties": {
             "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "terminal_id": {"type": "string"},
             "seq": {"type": "integer"}, "kind": {"enum": [k.value for k in EventKind]},
             "at_utc": {"type": "string", "format": "date-time"}, "local_date": {"type": "string", "format": "date"},
             "student_id": {"type": ["string", "null"]}, "card_uid": {"type": ["string", "null"]},
             "meal": {"type": ["string", "null"]}, "outcome": {"type": "string"}, "reason": {"type": "string"},
             "message": {"type": "string"}, "paid_kopecks": {"type": "integer"}, "free_kopecks": {"type": "integer"},
             "budget_line": {"type": ["string", "null"]}, "ref_event_id": {"type": ["string", "null"]},
             "source": {"type": "string"}, "staff": {"type": "string"}, "note": {"type": "string"},
             "flags": {"type": "string"}}}


# What a terminal reports of itself on push and pull, for the office's terminals page (optional).
TERMINAL_REPORT = {"outbox_size": {"type": "integer", "minimum": 0, "description": "событий ждёт отправки"},
                   "version": {"type": "string", "maxLength": 64, "description": "версия программы терминала"}}
REVIEW_KEY = {"type": "object", "required": ["day", "subject", "meal", "kind"], "properties": {
    "day": {"type": "string", "format": "date"}, "subject": {"type": "string"}, "meal": {"type": "string"},
    "kind": {"enum": [str(k) for k in KINDS]}, "fingerprint": {"type": ["string", "null"]}}}


def spec() -> dict[str, Any]:
    school = _path("school_id", "код школы")
    terminal = _path("terminal_id", "терминал")
    review_filters = [_query("from", "первый день ГГГГ-ММ-ДД или ДД.ММ.ГГГГ", False),
                      _query("to", "последний день", False), _query("class", "код класса", False),
                      _query("kind", f"виды через запятую: {', '.join(KINDS)}", False),
                      _query("status", "open (по умолчанию), resolved или all", False)]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Школьная столовая: центральный сервер", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error", "message"],
                                  "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
                        "Event": EVENT},
        },
        "paths": {
            "/api/health": {"get": _op("Сервер работает; его время (UTC)", auth=None, errors=())},
            "/api/openapi.json": {"get": _op("Это описание API", auth=None, errors=())},
            "/api/auth/login": {"post": _op(
                "Вход администратора: токен на время сессии; после многих неудачных попыток — 429", auth=None,
                errors=("400", "401", "429"), body={
                    "type": "object", "required": ["login", "password"],
                    "properties": {"login": {"type": "string"}, "password": {"type": "string"}}})},
            "/api/sync/push": {"post": _op(
                "Отправка журнала терминала: каждое событие сохраняется один раз по id; ответ по каждому",
                auth="терминала", errors=("400", "401", "403", "413"), body={
                    "type": "object", "required": ["events"], "properties": {
                        "terminal_time": {"type": "string", "format": "date-time"}, **TERMINAL_REPORT,
                        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}})},
            "/api/sync/pull": {"post": _op(
                "Данные школы для раздачи: снимок или изменения после курсора", auth="терминала", body={
                    "type": "object", "properties": {
                        "terminal_time": {"type": "string", "format": "date-time"}, "cursor": {"type": "string"},
                        "outbox_from": {"type": ["integer", "null"]}, "full": {"type": "boolean"},
                        **TERMINAL_REPORT}})},
            "/api/schools": {
                "get": _op("Школы, доступные администратору", auth="администратора"),
                "post": _op("Добавить или изменить школу (администратор района)", auth="администратора", ok="201",
                            errors=("400", "401", "403", "422"), body={
                                "type": "object", "required": ["id", "name", "timezone", "policy"], "properties": {
                                    "id": {"type": "string"}, "name": {"type": "string"},
                                    "timezone": {"type": "string"}, "policy": {"type": "string"},
                                    "week_days": {"type": "string"}}})},
            "/api/schools/{school_id}": {"get": _op("Школа: настройки, ученики, терминалы", auth="администратора",
                                                    params=[school], errors=("401", "403", "404"))},
            "/api/schools/{school_id}/terminals": {
                "get": _op("Терминалы школы: на связи ли (последний обмен не позже 10 мин назад), когда были, "
                           "сколько событий ждёт отправки, расхождение часов, версия, отклонённые события, "
                           "признак двойника", auth="администратора", params=[school], errors=("401", "403", "404")),
                "post": _op("Зарегистрировать терминал: одноразовый показ токена", auth="администратора", ok="201",
                            params=[school], errors=("400", "401", "403", "404"))},
            "/api/schools/{school_id}/terminals/{terminal_id}": {"patch": _op(
                "Переименовать терминал школы", auth="администратора", params=[school, terminal],
                errors=("400", "401", "403", "404"), body={
                    "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}})},
            "/api/schools/{school_id}/terminals/{terminal_id}/revoke": {"post": _op(
                "Отозвать токен терминала школы", auth="администратора", params=[school, terminal],
                errors=("401", "403", "404", "409"))},
            "/api/schools/{school_id}/reviews": {"get": _op(
                "Сверка: расхождения и отметки событий к разбору, с итогами по видам; по умолчанию открытые "
                "за последние 31 день, будущие дни не показываются", auth="администратора",
                params=[school, *review_filters], errors=("400", "401", "403", "404"))},
            "/api/schools/{school_id}/reviews/export": {"get": _op(
                "Сверка в файл XLSX или CSV (по-русски, даты ДД.ММ.ГГГГ, суммы в рублях)", auth="администратора",
                params=[school, *review_filters, _query("format", "xlsx (по умолчанию) или csv", False)],
                errors=("400", "401", "403", "404"))},
            "/api/schools/{school_id}/reviews/resolve": {"post": _op(
                "Решить расхождения: причина из списка и комментарий (для «другое» обязателен); решения не "
                "удаляются, новое заменяет прежнее; 409 — расхождение изменилось после показа",
                auth="администратора", params=[school], errors=("400", "401", "403", "404", "409"), body={
                    "type": "object", "required": ["items", "reason"], "properties": {
                        "items": {"type": "array", "items": REVIEW_KEY},
                        "reason": {"enum": list(REASONS)}, "comment": {"type": "string"}}})},
            "/api/schools/{school_id}/reviews/history": {"get": _op(
                "Все решения по одному расхождению, старые первыми", auth="администратора",
                params=[school, _query("day", "день ГГГГ-ММ-ДД"), _query("subject", "код ученика или терминала"),
                        _query("meal", "приём пищи (пусто для терминала)"), _query("kind", "вид расхождения")],
                errors=("400", "401", "403"))},
            "/api/terminals/{terminal_id}/revoke": {"post": _op(
                "Отозвать токен терминала", auth="администратора", params=[_path("terminal_id", "терминал")],
                errors=("401", "403", "404", "409"))},
            "/api/schools/{school_id}/import/{kind}": {"post": {
                **_op("Загрузка данных школы: всё или ничего; ошибки по строкам", auth="администратора",
                      params=[school, {**_path("kind", "вид данных"), "schema": {"enum": list(COLUMNS)}},
                              _query("replace", "1: файл учеников — полный список школы", False)],
                      errors=("400", "401", "403", "404", "413", "422")),
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "rows": {"type": "array", "items": {"type": "object"}}}}},
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "file": {"type": "string", "format": "binary"}}}}}}}},
            "/api/schools/{school_id}/mismatches": {"get": _op(
                "Расхождения «заказано — выдано» по дням, классам и ученикам", auth="администратора",
                params=[school, _query("from", "первый день ГГГГ-ММ-ДД"), _query("to", "последний день"),
                        _query("format", "csv — выгрузка CSV", False)], errors=("400", "401", "403", "404"))},
            "/api/schools/{school_id}/rejected": {"get": _op(
                "Отклонённые сервером события терминалов школы с причиной, новые первыми", auth="администратора",
                params=[school, _query("limit", "сколько строк, 1–500 (по умолчанию 100)", False),
                        _query("before", "номер n строки: показать более ранние (следующая страница)", False)],
                errors=("400", "401", "403", "404"))},
        },
    }
