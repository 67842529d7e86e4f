"""The OpenAPI 3.1 description of the API served at /api/openapi.json (a test checks it against the routes)."""

from __future__ import annotations

from typing import Any

from pos.ledger import EventKind
from server.importer import COLUMNS

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


def _office(school: dict[str, Any]) -> dict[str, Any]:
    """The office's routes (server/api/office.py): the roster and benefit applications."""
    app = _path("app_id", "код заявления")
    date_ = {"type": "string", "description": "ГГГГ-ММ-ДД или ДД.ММ.ГГГГ"}
    errors = ("400", "401", "403", "404", "422")
    return {
        "/api/schools/{school_id}/students": {"get": _op(
            "Поиск учеников: по ФИО (без учёта регистра и ё, слова в любом порядке) или номеру карты в любом виде",
            auth="администратора", errors=("401", "403", "404"), params=[
                school, _query("q", "ФИО или номер карты", False), _query("class", "класс, например «5 А»", False),
                _query("category", "код льготной категории, действующей сегодня", False),
                _query("include_left", "1: и выбывшие", False)])},
        "/api/schools/{school_id}/students/{student_id}": {"get": _op(
            "Карточка ученика: данные, карты, льготы, счёт с выпиской, питание по дням, заявления",
            auth="администратора", params=[school, _path("student_id", "код ученика")],
            errors=("401", "403", "404"))},
        "/api/schools/{school_id}/cards/{card}/block": {"post": _op(
            "Заблокировать карту с причиной; терминалы отказывают по ней после следующей синхронизации",
            auth="администратора", params=[school, _path("card", "номер карты в любом виде")], errors=errors,
            body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}})},
        "/api/schools/{school_id}/applications": {
            "get": _op("Заявления на льготное питание с перечнем документов и сроком решения", auth="администратора",
                       params=[school, _query("status", "registered, granted или refused", False)],
                       errors=("400", "401", "403", "404")),
            "post": _op("Зарегистрировать заявление: категория, дата, сданные документы (номера по перечню политики)",
                        auth="администратора", ok="201", params=[school], errors=errors, body={
                            "type": "object", "required": ["student_id", "category", "registered_on"], "properties": {
                                "student_id": {"type": "string"}, "category": {"type": "string"},
                                "registered_on": date_, "applicant": {"type": "string"},
                                "received": {"type": "array", "items": {"type": "integer"}},
                                "note": {"type": "string"}}})},
        "/api/schools/{school_id}/applications/{app_id}/decision": {"post": _op(
            "Решение комиссии: предоставить (все документы сданы) или отказать с причиной из политики",
            auth="администратора", params=[school, app], errors=errors, body={
                "type": "object", "required": ["granted", "decided_on"], "properties": {
                    "granted": {"type": "boolean"}, "decided_on": date_, "protocol_no": {"type": "string"},
                    "reason": {"type": "string", "description": "код причины отказа из политики"},
                    "note": {"type": "string"}}})},
        "/api/schools/{school_id}/applications/{app_id}/order": {"post": _op(
            "Приказ директора: льгота со следующего дня до конца учебного года (31 мая) или до даты ends",
            auth="администратора", params=[school, app], errors=errors, body={
                "type": "object", "required": ["order_no", "order_date"], "properties": {
                    "order_no": {"type": "string"}, "order_date": date_, "ends": date_}})},
        "/api/schools/{school_id}/benefits/lists": {"get": _op(
            "Списки по льготным категориям на дату: ученик, класс, дата рождения, основание, период",
            auth="администратора", params=[school, _query("date", "ГГГГ-ММ-ДД (по умолчанию сегодня)", False)],
            errors=("400", "401", "403", "404"))},
        "/api/schools/{school_id}/applications/overdue": {"get": _op(
            "Заявления без решения дольше 10 рабочих дней (поданные летом — после 7 сентября)",
            auth="администратора", params=[school], errors=("401", "403", "404"))},
    }


def spec() -> dict[str, Any]:
    school = _path("school_id", "код школы")
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
                        "terminal_time": {"type": "string", "format": "date-time"},
                        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}})},
            "/api/sync/pull": {"post": _op(
                "Данные школы для раздачи: снимок или изменения после курсора", auth="терминала", body={
                    "type": "object", "properties": {
                        "terminal_time": {"type": "string", "format": "date-time"}, "cursor": {"type": "string"},
                        "outbox_from": {"type": ["integer", "null"]}, "full": {"type": "boolean"}}})},
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
            "/api/schools/{school_id}/terminals": {"post": _op(
                "Зарегистрировать терминал: одноразовый показ токена", auth="администратора", ok="201",
                params=[school], errors=("400", "401", "403", "404"))},
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
            **_office(school),
        },
    }
