"""The OpenAPI 3.1 description of the API served at /api/openapi.json.

Bodies are described by msgspec structs, their JSON Schemas made by `msgspec.json.schema_components`:
the sync bodies by the structs of `sync.wire` (the push body is the very struct the server decodes),
the administration bodies by the structs below. Tests check the paths against the routes and the
schemas against what the server accepts and answers; schemathesis fuzzes the API from this description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from server.importer import COLUMNS
from server.mismatches import Item
from server.office.reviews import KINDS, REASONS
from sync.wire import (
    HEALTH_PATH,
    PULL_PATH,
    PUSH_PATH,
    PullAnswer,
    PullBody,
    PushAnswer,
    PushBody,
)

REF = "#/components/schemas/{name}"


class Error(msgspec.Struct):
    """Every refusal: a code and a Russian message that says what is wrong."""

    error: str
    message: str


class ImportFailure(Error):
    """An import refused as a whole: nothing is loaded; the errors say which row and column."""

    errors: list[str]


class Health(msgspec.Struct):
    status: str
    server_time: str


class LoginBody(msgspec.Struct):
    login: str
    password: Annotated[str, msgspec.Meta(max_length=1000)]


class LoginAnswer(msgspec.Struct):
    token: str
    expires_at: str


class SchoolBrief(msgspec.Struct):
    id: str
    name: str
    timezone: str


class SchoolList(msgspec.Struct):
    schools: list[SchoolBrief]


class SchoolBody(msgspec.Struct):
    """A school to add or change (the district administrator only)."""

    id: str
    name: str
    timezone: str
    policy: str
    week_days: str = "1,2,3,4,5"


class SchoolCreated(msgspec.Struct):
    id: str


class TerminalInfo(msgspec.Struct):
    id: str
    name: str
    revoked: bool
    last_seen_at: str | None
    clock_drift_s: float | None


class SchoolDetail(msgspec.Struct):
    id: str
    name: str
    timezone: str
    week_days: str
    students: int
    terminals: list[TerminalInfo]


class TerminalBody(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class Enrolled(msgspec.Struct):
    """The new terminal's token is shown once here and stored only as a hash."""

    terminal_id: str
    token: str


class Revoked(msgspec.Struct):
    terminal_id: str
    revoked: bool


class ImportBody(msgspec.Struct):
    rows: list[dict[str, Any]]


class ImportAnswer(msgspec.Struct):
    kind: str
    rows: int
    skipped: int


class Tally(msgspec.Struct):
    count: int
    kopecks: int


class ClassTally(msgspec.Struct):
    day: str
    class_id: str
    class_name: str
    counts: dict[str, int]
    kopecks: dict[str, int]


class MismatchReport(msgspec.Struct):
    """Ordered and served disagreeing, by student (`items`), by day and class, and in total, per kind."""

    school_id: str
    from_: str = msgspec.field(name="from")
    to: str
    kinds: dict[str, str]  # kind -> its Russian name
    items: list[Item]
    classes: list[ClassTally]
    totals: dict[str, Tally]
    # a line per school year of the period without a policy: its days are not judged (Russian)
    not_judged: list[str] = msgspec.field(default_factory=list)


# ---- the school calendar (server/api/office.py, `server.office.calendar`) ----

class CalendarSettings(msgspec.Struct):
    """The school year (null: not set), the school week (ISO week days, 1 = Monday) and the order deadline."""

    year_starts: str | None
    year_ends: str | None
    week_days: str
    days_per_week: int | None  # 5 or 6; null for another week
    order_deadline: str  # ЧЧ:ММ, school time, on the school day before


class ClassOff(msgspec.Struct):
    class_id: str
    reason: str


class CalendarDay(msgspec.Struct):
    day: str
    state: str  # school, weekend, holiday, vacation, quarantine, outside
    school_day: bool
    reason: str
    days_off: list[ClassOff]  # classes without lessons on a school day


class CalendarRange(msgspec.Struct):
    from_: str = msgspec.field(name="from")
    to: str = ""
    reason: str = ""
    kind: str = ""
    class_id: str = ""
    added_by: str = ""


class CalendarAnswer(msgspec.Struct):
    school_id: str
    from_: str = msgspec.field(name="from")
    to: str = ""
    settings: CalendarSettings | None = None
    days: list[CalendarDay] = []
    holidays: list[CalendarRange] = []
    days_off: list[CalendarRange] = []


class CalendarSettingsBody(msgspec.Struct, forbid_unknown_fields=True):
    """What to change; a field left out stays as it is (the year's two days go together)."""

    year_starts: str | None = None
    year_ends: str | None = None
    days_per_week: int | None = None
    order_deadline: Annotated[str, msgspec.Meta(max_length=20)] | None = None


class HolidayBody(msgspec.Struct, forbid_unknown_fields=True):
    from_: str = msgspec.field(name="from")
    to: str | None = None  # null: one day
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class DayOffBody(msgspec.Struct, forbid_unknown_fields=True):
    class_id: Annotated[str, msgspec.Meta(max_length=200)]
    from_: str = msgspec.field(name="from")
    to: str | None = None
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class CalendarChanged(msgspec.Struct):
    days: int  # days added or removed


CALENDAR_TYPES = (CalendarAnswer, CalendarSettings, CalendarSettingsBody, HolidayBody, DayOffBody, CalendarChanged)


TYPES: tuple[Any, ...] = (Error, ImportFailure, Health, PushBody, PushAnswer, PullBody, PullAnswer, LoginBody,
                          LoginAnswer, SchoolList, SchoolBody, SchoolCreated, SchoolDetail, TerminalBody, Enrolled,
                          Revoked, ImportBody, ImportAnswer, MismatchReport, *CALENDAR_TYPES)


Op = Callable[..., dict[str, Any]]  # `spec`'s builder of one operation


def _json(schema: dict[str, Any] | None) -> dict[str, Any]:
    return {"application/json": {"schema": schema} if schema is not None else {}}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


def _query(name: str, description: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string"},
            "description": description}


def _office(op: Op, school: dict[str, Any]) -> dict[str, Any]:
    """The office's routes (server/api/office.py): the roster and benefit applications."""
    app = _path("app_id", "код заявления")
    klass = _path("class_id", "код класса, например «1а»")
    date_ = {"type": "string", "description": "ГГГГ-ММ-ДД или ДД.ММ.ГГГГ"}
    errors = ("400", "401", "403", "404", "422")
    return {
        "/api/schools/{school_id}/students": {"get": op(
            "Поиск учеников: по ФИО (без учёта регистра и ё, слова в любом порядке) или номеру карты в любом виде",
            auth="администратора", errors=("401", "403", "404"), params=[
                school, _query("q", "ФИО или номер карты", False), _query("class", "класс, например «5 А»", False),
                _query("category", "код льготной категории, действующей сегодня", False),
                _query("include_left", "1: и выбывшие", False)])},
        "/api/schools/{school_id}/students/{student_id}": {"get": op(
            "Карточка ученика: данные, карты, льготы, счёт с выпиской, питание по дням, заявления",
            auth="администратора", params=[school, _path("student_id", "код ученика")],
            errors=("401", "403", "404"))},
        "/api/schools/{school_id}/cards/{card}/block": {"post": op(
            "Заблокировать карту с причиной; терминалы отказывают по ней после следующей синхронизации",
            auth="администратора", params=[school, _path("card", "номер карты в любом виде")], errors=errors,
            body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}})},
        "/api/schools/{school_id}/applications": {
            "get": op("Заявления на льготное питание с перечнем документов и сроком решения", auth="администратора",
                       params=[school, _query("status", "registered, granted или refused", False)],
                       errors=("400", "401", "403", "404")),
            "post": op("Зарегистрировать заявление: категория, дата, сданные документы (номера по перечню политики)",
                        auth="администратора", ok="201", params=[school], errors=errors, body={
                            "type": "object", "required": ["student_id", "category", "registered_on"], "properties": {
                                "student_id": {"type": "string"}, "category": {"type": "string"},
                                "registered_on": date_, "applicant": {"type": "string"},
                                "received": {"type": "array", "items": {"type": "integer"}},
                                "note": {"type": "string"}}})},
        "/api/schools/{school_id}/applications/{app_id}/decision": {"post": op(
            "Решение комиссии: предоставить (все документы сданы) или отказать с причиной из политики",
            auth="администратора", params=[school, app], errors=errors, body={
                "type": "object", "required": ["granted", "decided_on"], "properties": {
                    "granted": {"type": "boolean"}, "decided_on": date_, "protocol_no": {"type": "string"},
                    "reason": {"type": "string", "description": "код причины отказа из политики"},
                    "note": {"type": "string"}}})},
        "/api/schools/{school_id}/applications/{app_id}/order": {"post": op(
            "Приказ директора: льгота со следующего дня до конца учебного года (31 мая) или до даты ends",
            auth="администратора", params=[school, app], errors=errors, body={
                "type": "object", "required": ["order_no", "order_date"], "properties": {
                    "order_no": {"type": "string"}, "order_date": date_, "ends": date_}})},
        "/api/schools/{school_id}/benefits/lists": {"get": op(
            "Списки по льготным категориям на дату: ученик, класс, дата рождения, основание, период",
            auth="администратора", params=[school, _query("date", "ГГГГ-ММ-ДД (по умолчанию сегодня)", False)],
            errors=("400", "401", "403", "404"))},
        "/api/schools/{school_id}/classes/{class_id}/order": {
            "get": op("Заявка класса на день: по ученику льгота, бесплатное по политике, цены платного, счёт, лимит, "
                      "особенности питания, «не придёт», предупреждения; срок приёма заявок",
                      auth="администратора", params=[school, klass, _query("date", "ГГГГ-ММ-ДД (по умолчанию "
                                                                           "следующий учебный день)", False)],
                      errors=("400", "401", "403", "404", "422")),
            "put": op("Записать заявку класса на день (ученики, не названные в теле, не меняются); после срока — "
                      "только с причиной reason, изменение отмечается как позднее; прошедший и не учебный день — 422",
                      auth="администратора", params=[school, klass], errors=errors, body={
                          "type": "object", "required": ["date", "students"], "properties": {
                              "date": date_, "reason": {"type": "string"}, "students": {"type": "array", "items": {
                                  "type": "object", "required": ["student_id"], "properties": {
                                      "student_id": {"type": "string"},
                                      "meals": {"type": "array", "items": {"type": "string"}},
                                      "absent": {"type": "boolean"}}}}}})},
        "/api/schools/{school_id}/applications/overdue": {"get": op(
            "Заявления без решения дольше 10 рабочих дней (поданные летом — после 7 сентября)",
            auth="администратора", params=[school], errors=("401", "403", "404"))},
        **_kitchen(op, school),
        **_reports(op, school),
        **_payments(op, school),
    }


def _payments(op: Op, school: dict[str, Any]) -> dict[str, Any]:
    """A bank's payment register (server/api/office.py, server.office.payments)."""
    register = op("Реестр платежей банка (Сбербанк или таблица CSV/XLSX): строки с итогом по каждой; с apply=1 "
                  "платежи без конфликтов зачисляются, конфликты сохраняются на разбор; реестр с неверными итогами "
                  "или повреждённый — 422", auth="администратора",
                  params=[school, _query("format", "auto (по умолчанию), sber или csv", False),
                          _query("apply", "1: зачислить (без него ничего не записывается)", False)],
                  errors=("400", "401", "403", "404", "413", "422"))
    register["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}}
    return {"/api/schools/{school_id}/payments": {"post": register}}


def _kitchen(op: Op, school: dict[str, Any]) -> dict[str, Any]:
    """The kitchen's order (server/api/office.py, server.office.kitchen)."""
    day = _query("date", "день ГГГГ-ММ-ДД или ДД.ММ.ГГГГ (по умолчанию следующий учебный день)", False)
    order = op("Заявка на пищеблок на день: по приёмам пищи, переменам и классам — бесплатно по статьям "
               "бюджета и платно, с суммами в копейках; на срок подачи заявок, ниже изменения после срока "
               "и заявка сейчас, если отличается", auth="администратора",
               params=[school, day, _query("format", "json (по умолчанию), csv или xlsx", False)],
               errors=("400", "401", "403", "404"))
    order["responses"]["200"]["content"].update({
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}}})
    return {
        "/api/schools/{school_id}/kitchen-order": {"get": order},
        "/api/schools/{school_id}/kitchen-order/send": {"post": op(
            "Отметить, что заявка учебного дня отправлена на пищеблок (после срока подачи, не за прошедший "
            "день); повторная отправка сохраняет время первой", auth="администратора", params=[school],
            errors=("400", "401", "403", "404", "422"), body_required=False,
            body={"type": "object", "properties": {"date": {"type": "string", "description": day["description"]}}})},
    }


def _reports(op: Op, school: dict[str, Any]) -> dict[str, Any]:
    """The registers of a month (server/api/office.py, server.reports; tabel helper)."""
    from server.reports import KINDS as REPORT_KINDS

    found = op("Отчёт за месяц: табель класса (tabel), молоко (milk), отчёт школы (monthly) и другие виды — JSON, "
               "CSV, XLSX или PDF; выгрузка записывается, на странице отчёта видно, что изменилось с последней",
               auth="администратора",
               params=[school, {"name": "kind", "in": "path", "required": True, "description": "вид отчёта",
                                "schema": {"type": "string", "enum": list(REPORT_KINDS)}},
                       _query("month", "месяц ГГГГ-ММ", True), _query("class", "код класса (табель — обязательно)",
                                                                      False),
                       _query("format", "json (по умолчанию), csv, xlsx или pdf", False),
                       _query("submitted", "1 — отметить, что отчёт сдан", False)],
               errors=("400", "401", "403", "404"))
    found["responses"]["200"]["content"].update({
        "text/csv": {"schema": {"type": "string"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}}})
    return {"/api/schools/{school_id}/reports/{kind}": {"get": found}}


def _reviews(op: Op, school: dict[str, Any]) -> dict[str, Any]:
    """The review queue and the school's terminals (server/api/reviews.py)."""
    terminal = _path("terminal_id", "терминал")
    review_key = {"type": "object", "required": ["day", "subject", "meal", "kind"], "properties": {
        "day": {"type": "string", "format": "date"}, "subject": {"type": "string"}, "meal": {"type": "string"},
        "kind": {"enum": [str(k) for k in KINDS]}, "fingerprint": {"type": ["string", "null"]}}}
    filters = [_query("from", "первый день ГГГГ-ММ-ДД или ДД.ММ.ГГГГ", False),
               _query("to", "последний день", False), _query("class", "код класса", False),
               _query("kind", f"виды через запятую: {', '.join(KINDS)}", False),
               _query("status", "open (по умолчанию), resolved или all", False)]
    export = op("Сверка в файл XLSX или CSV (по-русски, даты ДД.ММ.ГГГГ, суммы в рублях)", auth="администратора",
                params=[school, *filters, _query("format", "xlsx (по умолчанию) или csv", False)],
                errors=("400", "401", "403", "404"))
    export["responses"]["200"]["content"] = {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}},
        "text/csv": {"schema": {"type": "string"}}}
    return {
        "/api/schools/{school_id}/terminals/{terminal_id}": {"patch": op(
            "Переименовать терминал школы", auth="администратора", params=[school, terminal],
            errors=("400", "401", "403", "404"), body={
                "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}})},
        "/api/schools/{school_id}/terminals/{terminal_id}/revoke": {"post": op(
            "Отозвать токен терминала школы", auth="администратора", params=[school, terminal],
            errors=("401", "403", "404", "409"))},
        "/api/schools/{school_id}/reviews": {"get": op(
            "Сверка: расхождения и отметки событий к разбору, с итогами по видам; по умолчанию открытые "
            "за последние 31 день, будущие дни не показываются", auth="администратора",
            params=[school, *filters], errors=("400", "401", "403", "404"))},
        "/api/schools/{school_id}/reviews/export": {"get": export},
        "/api/schools/{school_id}/reviews/resolve": {"post": op(
            "Решить расхождения: причина из списка и комментарий (для «другое» обязателен); решения не "
            "удаляются, новое заменяет прежнее; 409 — расхождение изменилось после показа",
            auth="администратора", params=[school], errors=("400", "401", "403", "404", "409"), body={
                "type": "object", "required": ["items", "reason"], "properties": {
                    "items": {"type": "array", "items": review_key},
                    "reason": {"enum": list(REASONS)}, "comment": {"type": "string"}}})},
        "/api/schools/{school_id}/reviews/history": {"get": op(
            "Все решения по одному расхождению, старые первыми", auth="администратора",
            params=[school, _query("day", "день ГГГГ-ММ-ДД"), _query("subject", "код ученика или терминала"),
                    _query("meal", "приём пищи (пусто для терминала)"), _query("kind", "вид расхождения")],
            errors=("400", "401", "403", "404"))},
    }


def _calendar(op: Op, school: dict[str, Any]) -> dict[str, Any]:
    """The school calendar (server/api/office.py): days with their state, the year, week and deadline,
    holidays and class days off."""
    errors = ("400", "401", "403", "404", "422")
    base = "/api/schools/{school_id}/calendar"
    return {
        base: {"get": op(
            "Календарь школы: каждый день периода (учебный, выходной, праздник, каникулы, карантин, вне учебного "
            "года; классы без занятий), учебный год, неделя, срок заявки, праздники и дни без занятий классов",
            auth="администратора", answer=CalendarAnswer, errors=errors, params=[
                school, _query("from", "первый день ГГГГ-ММ-ДД или ДД.ММ.ГГГГ (по умолчанию — начало учебного "
                                       "года или этого месяца)", False),
                _query("to", "последний день (не больше 366 дней от первого)", False)])},
        f"{base}/settings": {"put": op(
            "Изменить учебный год (первый и последний день), учебную неделю (5 или 6 дней), срок заявки ЧЧ:ММ; "
            "терминалы получат их при следующей синхронизации", auth="администратора", answer=CalendarSettings,
            body=CalendarSettingsBody, params=[school], errors=errors)},
        f"{base}/holidays": {"post": op(
            "Добавить праздник, каникулы или карантин с причиной: каждый день с from по to", auth="администратора",
            answer=CalendarChanged, body=HolidayBody, params=[school], errors=errors)},
        f"{base}/holidays/remove": {"post": op(
            "Убрать праздники и каникулы с from по to: дни снова учебные (терминалы удалят их)",
            auth="администратора", answer=CalendarChanged, body=HolidayBody, params=[school], errors=errors)},
        f"{base}/days-off": {"post": op(
            "Дни без занятий у класса (экскурсия) с from по to: только учебные дни школы", auth="администратора",
            answer=CalendarChanged, body=DayOffBody, params=[school], errors=errors)},
        f"{base}/days-off/remove": {"post": op(
            "Отменить дни без занятий у класса с from по to", auth="администратора", answer=CalendarChanged,
            body=DayOffBody, params=[school], errors=errors)},
    }


def spec() -> dict[str, Any]:
    refs, schemas = msgspec.json.schema_components(TYPES, ref_template=REF)
    ref = dict(zip(TYPES, refs, strict=True))

    def op(summary: str, *, auth: str | None, answer: Any = None, body: Any = None, body_required: bool = True,
           params: list[dict[str, Any]] | None = None, ok: str = "200",
           errors: dict[str, Any] | tuple[str, ...] = ("400", "401", "403")) -> dict[str, Any]:
        responses = {ok: {"description": "успех", "content": _json(ref[answer] if answer else None)}}
        for code in errors:
            failure = errors[code] if isinstance(errors, dict) else Error
            responses[code] = {"description": "ошибка", "content": _json(ref[failure])}
        result: dict[str, Any] = {"summary": summary, "responses": responses}
        if auth:
            result["security"] = [{"bearer": []}]
            result["description"] = f"Токен: {auth}."
        if body is not None:  # a struct, or a schema written out for a body without one
            schema = {"application/json": {"schema": body}} if isinstance(body, dict) else _json(ref[body])
            result["requestBody"] = {"required": body_required, "content": schema}
        if params:
            result["parameters"] = params
        return result

    school = _path("school_id", "код школы")
    mismatches = op("Расхождения «заказано — выдано» по дням, классам и ученикам", auth="администратора",
                    answer=MismatchReport, errors=("400", "401", "403", "404"),
                    params=[school, _query("from", "первый день ГГГГ-ММ-ДД"), _query("to", "последний день"),
                            _query("format", "csv — выгрузка CSV", False)])
    mismatches["responses"]["200"]["content"]["text/csv"] = {"schema": {"type": "string"}}
    imports = op("Загрузка данных школы: всё или ничего; ошибки по строкам", auth="администратора",
                 answer=ImportAnswer, body=ImportBody,
                 params=[school, {**_path("kind", "вид данных"), "schema": {"enum": list(COLUMNS)}},
                         _query("replace", "1: файл учеников — полный список школы", False),
                         _query("leaving_with_money", "1: с replace отчислить и учеников с деньгами или долгом",
                                False)],
                 errors={"400": Error, "401": Error, "403": Error, "404": Error, "413": Error,
                         "422": ImportFailure})
    imports["requestBody"]["content"]["multipart/form-data"] = {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Школьная столовая: центральный сервер", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
        "paths": {
            HEALTH_PATH: {"get": op("Сервер работает; его время (UTC)", auth=None, answer=Health, errors=())},
            "/api/openapi.json": {"get": op("Это описание API", auth=None, errors=())},
            "/api/auth/login": {"post": op(
                "Вход администратора: токен на время сессии; после многих неудачных попыток — 429", auth=None,
                body=LoginBody, answer=LoginAnswer, errors=("400", "401", "429"))},
            "/api/auth/logout": {"post": op("Выход: токен администратора перестаёт действовать",
                                            auth="администратора", errors=("401", "403"))},
            PUSH_PATH: {"post": op(
                "Отправка журнала терминала: каждое событие сохраняется один раз по id; ответ по каждому",
                auth="терминала", body=PushBody, answer=PushAnswer, errors=("400", "401", "403", "413"))},
            PULL_PATH: {"post": op("Данные школы для раздачи: снимок или изменения после курсора; снимок, когда "
                                   "сервер уже отдаёт много снимков, — 503 busy с Retry-After",
                                   auth="терминала", body=PullBody, answer=PullAnswer,
                                   errors=("400", "401", "403", "503"))},
            "/api/schools": {
                "get": op("Школы, доступные администратору", auth="администратора", answer=SchoolList,
                          errors=("401", "403")),
                "post": op("Добавить или изменить школу (администратор района)", auth="администратора", ok="201",
                           body=SchoolBody, answer=SchoolCreated, errors=("400", "401", "403", "422"))},
            "/api/schools/{school_id}": {"get": op("Школа: настройки, ученики, терминалы", auth="администратора",
                                                   answer=SchoolDetail, params=[school],
                                                   errors=("400", "401", "403", "404"))},
            "/api/schools/{school_id}/terminals": {
                "get": op("Терминалы школы: на связи ли (последний обмен не позже 10 мин назад), когда были, "
                          "сколько событий ждёт отправки, расхождение часов, версия, отклонённые события, "
                          "признак двойника", auth="администратора", params=[school], errors=("401", "403", "404")),
                "post": op("Зарегистрировать терминал: одноразовый показ токена", auth="администратора", ok="201",
                           body=TerminalBody, body_required=False, answer=Enrolled, params=[school],
                           errors=("400", "401", "403", "404"))},
            "/api/terminals/{terminal_id}/revoke": {"post": op(
                "Отозвать токен терминала", auth="администратора", answer=Revoked,
                params=[_path("terminal_id", "терминал")], errors=("400", "401", "403", "404", "409"))},
            "/api/schools/{school_id}/import/{kind}": {"post": imports},
            "/api/schools/{school_id}/mismatches": {"get": mismatches},
            "/api/schools/{school_id}/rejected": {"get": op(
                "Отклонённые сервером события терминалов школы с причиной, новые первыми", auth="администратора",
                params=[school, _query("limit", "сколько строк, 1–500 (по умолчанию 100)", False),
                        _query("before", "номер n строки: показать более ранние (следующая страница)", False)],
                errors=("400", "401", "403", "404"))},
            **_office(op, school),
            **_reviews(op, school),
            **_calendar(op, school),
        },
    }
