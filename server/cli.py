"""`canteen server ...`: database migrations, the development server, schools, terminals, admins,
imports, the mismatch report, a student's card and overdue benefit decisions, all against
CANTEEN_DATABASE_URL."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy import Connection, Engine

from pos.policy import shipped_policies
from server.config import ConfigError, ServerConfig

PASSWORD_ENV = "CANTEEN_ADMIN_PASSWORD"
PIN_ENV = "CANTEEN_STAFF_PIN"


def _die(message: str) -> NoReturn:
    click.echo(f"ОШИБКА: {message}", err=True)
    sys.exit(1)


def _ask_password() -> str:
    try:
        password: str = click.prompt("Пароль", hide_input=True, err=True)
        again: str = click.prompt("Пароль ещё раз", hide_input=True, err=True)
    except click.Abort:  # no terminal to ask at, or Ctrl+C/Ctrl+D
        _die(f"пароль не введён (его можно задать переменной окружения {PASSWORD_ENV})")
    if password != again:
        _die("пароли не совпадают")
    return password


def _engine() -> Engine:
    from server.db import make_server_engine

    return make_server_engine(ServerConfig.from_env().database_url)


@click.group()
def server() -> None:
    """Центральный сервер: школы, терминалы, загрузка данных, отчёты (база: CANTEEN_DATABASE_URL)."""
    try:
        ServerConfig.from_env()
    except ConfigError as exc:
        _die(str(exc))


@server.group()
def db() -> None:
    """База данных сервера."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Создать или обновить схему базы (миграции Alembic)."""
    from server.migrate import upgrade

    url = ServerConfig.from_env().database_url
    upgrade(url, revision)
    click.echo(f"База обновлена до {revision}.")


@server.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Сервер для разработки (в работе — gunicorn, см. docs/server.md)."""
    from werkzeug.serving import run_simple

    from server.app import create_app

    click.echo(f"Сервер: http://{host}:{port}/api/health")
    run_simple(host, port, create_app(), threaded=True, use_reloader=False)


@server.group()
def school() -> None:
    """Школы на сервере."""


@school.command("add")
@click.argument("school_id")
@click.option("--name", required=True)
@click.option("--timezone", "tz", required=True, help="например Asia/Krasnoyarsk")
@click.option("--policy", "policy", required=True, help="файл политики или имя поставляемой (nazarovo-2021 …)")
@click.option("--week-days", default="1,2,3,4,5", show_default=True, help="учебные дни, 1 = понедельник")
def school_add(school_id: str, name: str, tz: str, policy: str, week_days: str) -> None:
    """Добавить школу (или изменить её настройки)."""
    from server.accounts import AccountError, add_school

    shipped = shipped_policies()
    path = shipped[policy] if policy in shipped else Path(policy)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        _die(f"не удалось прочитать политику {path}: {exc.strerror}")
    try:
        with _engine().begin() as conn:
            add_school(conn, school_id=school_id, name=name, timezone=tz, policy_text=text, week_days=week_days)
    except AccountError as exc:
        _die(str(exc))
    click.echo(f"Школа {school_id} сохранена.")


@server.group()
def terminal() -> None:
    """Терминалы раздачи."""


@terminal.command("add")
@click.argument("school_id")
@click.option("--name", default="", help="например «окно 1»")
def terminal_add(school_id: str, name: str) -> None:
    """Зарегистрировать терминал школы и показать его одноразовый токен."""
    from server.accounts import AccountError, enroll_terminal

    try:
        with _engine().begin() as conn:
            terminal_id, token = enroll_terminal(conn, school_id, name=name)
    except AccountError as exc:
        _die(str(exc))
    click.echo(f"Терминал {terminal_id} зарегистрирован. Токен (показывается один раз, впишите в [sync] token):")
    click.echo(token)


@terminal.command("revoke")
@click.argument("terminal_id")
def terminal_revoke(terminal_id: str) -> None:
    """Отозвать токен терминала."""
    from server.accounts import AccountError, revoke_terminal

    try:
        with _engine().begin() as conn:
            revoke_terminal(conn, terminal_id)
    except AccountError as exc:
        _die(str(exc))
    click.echo(f"Токен терминала {terminal_id} отозван.")


@server.group()
def admin() -> None:
    """Администраторы."""


@admin.command("add")
@click.argument("login")
@click.option("--school", "school_id", default=None, help="только эта школа (по умолчанию — все школы)")
def admin_add(login: str, school_id: str | None) -> None:
    """Добавить администратора (или сменить пароль).

    Пароль спрашивается дважды (не виден при вводе) или берётся из переменной окружения
    CANTEEN_ADMIN_PASSWORD — но не из командной строки, где его видят другие пользователи (ps) и история.
    """
    from server.accounts import AccountError, add_admin

    password = os.environ.get(PASSWORD_ENV) or _ask_password()
    try:
        with _engine().begin() as conn:
            add_admin(conn, login, password, school_id=school_id)
    except AccountError as exc:
        _die(str(exc))
    click.echo(f"Администратор {login} сохранён.")


@server.group()
def staff() -> None:
    """Сотрудники раздачи: имя и ПИН-код для входа на терминале."""


@contextmanager
def _transaction() -> Iterator[Connection]:
    """One transaction on an engine closed after it (its connections are not left to the collector)."""
    engine = _engine()
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _ask_pin() -> str:
    try:
        pin: str = click.prompt("ПИН-код (4–6 цифр)", hide_input=True, err=True)
        again: str = click.prompt("ПИН-код ещё раз", hide_input=True, err=True)
    except click.Abort:  # no terminal to ask at, or Ctrl+C/Ctrl+D
        _die(f"ПИН-код не введён (его можно задать переменной окружения {PIN_ENV})")
    if pin != again:
        _die("ПИН-коды не совпадают")
    return pin


@staff.command("add")
@click.argument("school_id")
@click.argument("name")
def staff_add(school_id: str, name: str) -> None:
    """Добавить сотрудника раздачи.

    ПИН-код спрашивается дважды (не виден при вводе) или берётся из переменной окружения
    CANTEEN_STAFF_PIN — но не из командной строки.
    """
    from server.office.staff import StaffError, add_staff

    pin = os.environ.get(PIN_ENV) or _ask_pin()
    try:
        with _transaction() as conn:
            staff_id = add_staff(conn, school_id, name, pin)
    except StaffError as exc:
        _die(str(exc))
    click.echo(f"Сотрудник добавлен: {staff_id}. Терминалы школы узнают о нём при следующей синхронизации.")


@staff.command("pin")
@click.argument("school_id")
@click.argument("staff_id")
def staff_pin(school_id: str, staff_id: str) -> None:
    """Сменить ПИН-код сотрудника (спрашивается дважды или из CANTEEN_STAFF_PIN)."""
    from server.office.staff import StaffError, change_pin

    pin = os.environ.get(PIN_ENV) or _ask_pin()
    try:
        with _transaction() as conn:
            change_pin(conn, school_id, staff_id, pin)
    except StaffError as exc:
        _die(str(exc))
    click.echo(f"ПИН-код сотрудника {staff_id} изменён.")


@staff.command("list")
@click.argument("school_id")
def staff_list(school_id: str) -> None:
    """Сотрудники раздачи школы."""
    from server.office.staff import listing

    engine = _engine()
    try:
        with engine.connect() as conn:
            rows = listing(conn, school_id)
    finally:
        engine.dispose()
    if not rows:
        click.echo(f"Сотрудников раздачи в школе {school_id} нет: терминалы берут имя из своих настроек.")
        return
    for r in rows:
        click.echo(f"  {r['id']}  {r['name']}{'' if r['active'] else '  (удалён)'}")


@staff.command("remove")
@click.argument("school_id")
@click.argument("staff_id")
def staff_remove(school_id: str, staff_id: str) -> None:
    """Убрать сотрудника из списка входа на терминалах (его имя остаётся в журнале)."""
    from server.office.staff import StaffError, deactivate

    try:
        with _transaction() as conn:
            deactivate(conn, school_id, staff_id)
    except StaffError as exc:
        _die(str(exc))
    click.echo(f"Сотрудник {staff_id} убран из списка раздачи.")


@server.command("import")
@click.argument("school_id")
@click.argument("kind", type=click.Choice(["students", "cards", "benefits", "orders", "topups", "prices",
                                           "holidays", "breaks", "meal_slots"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="файл учеников — полный список: остальных отчислить")
@click.option("--leaving-with-money", is_flag=True,
              help="с --replace: отчислить и тех, у кого на счёте деньги или долг")
def import_cmd(school_id: str, kind: str, file: Path, replace: bool, leaving_with_money: bool) -> None:
    """Загрузить файл школы (CSV или XLSX): всё или ничего."""
    from server.importer import ImportFailed, import_file

    try:
        data = file.read_bytes()
    except OSError as exc:
        _die(f"файл {file} не читается: {exc.strerror or exc}")
    try:
        with _engine().begin() as conn:
            result = import_file(conn, school_id, kind, data, file.name, replace=replace,
                                 leaving_with_money=leaving_with_money)
    except ImportFailed as exc:
        click.echo(f"Ничего не загружено: ошибок {len(exc.errors)}.", err=True)
        for line in exc.errors[:200]:
            click.echo(f"  {line}", err=True)
        sys.exit(1)
    skipped = f", пропущено уже загруженных: {result.skipped}" if result.skipped else ""
    click.echo(f"Загружено строк: {result.rows}{skipped}.")
    for note in result.notes:
        click.echo(f"  {note}")


@server.command("mismatches")
@click.argument("school_id")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d", "%d.%m.%Y"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d", "%d.%m.%Y"]))
@click.option("--csv", "as_csv", is_flag=True, help="CSV для Excel вместо текста")
@click.option("--json", "as_json", is_flag=True)
def mismatches_cmd(school_id: str, start: datetime, end: datetime, as_csv: bool, as_json: bool) -> None:
    """Расхождения «заказано — выдано» за период."""
    from sqlalchemy.exc import NoResultFound

    from pos.money import format_rub
    from server.mismatches import KINDS, report, to_csv

    try:
        with _engine().connect() as conn:
            data: dict[str, Any] = report(conn, school_id, start.date(), end.date())
    except NoResultFound:
        _die(f"школа {school_id!r} не найдена")
    if as_csv:
        click.echo(to_csv(data), nl=False)
        return
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    click.echo(f"Расхождения {school_id} с {date.isoformat(start.date())} по {end.date().isoformat()}:")
    for it in data["items"]:
        click.echo(f"  {it['day']} {it['class_name']:>6} {it['student_name'] or it['student_id']}: {it['meal']} — "
                   f"{KINDS[it['kind']]} ×{it['count']}, {format_rub(it['kopecks'])}")
    for kind, total in data["totals"].items():
        if total["count"]:
            click.echo(f"Итого {KINDS[kind]}: {total['count']}, {format_rub(total['kopecks'])}")
    if not data["items"]:
        click.echo("  расхождений нет")
    for line in data["not_judged"]:  # a school year without a policy
        click.echo(f"Не оценено: {line}")


@server.command("rejected")
@click.argument("school_id")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--before", default=None, type=int, help="номер n: показать более ранние")
@click.option("--json", "as_json", is_flag=True)
def rejected_cmd(school_id: str, limit: int, before: int | None, as_json: bool) -> None:
    """События терминалов, которые сервер отклонил, с причиной (новые первыми)."""
    from server.rejected import listing

    engine = _engine()
    try:
        with engine.connect() as conn:
            rows = listing(conn, school_id, limit=limit, before=before)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo(f"Отклонённых событий школы {school_id} нет.")
        return
    click.echo(f"Отклонённые события школы {school_id} (новые первыми):")
    for r in rows:
        at = datetime.fromisoformat(r["received_at"]).strftime("%d.%m.%Y %H:%M:%S UTC")
        click.echo(f"  n={r['n']} {at} {r['terminal_id']} {r['event_id'] or '—'}: {r['reason']} — {r['message']}")
    if len(rows) == limit:
        click.echo(f"Ещё: --before {rows[-1]['n']}")


@server.group()
def user() -> None:
    """Пользователи школьного офиса (страницы в браузере)."""


@user.command("invite")
@click.argument("school_id")
@click.argument("login")
@click.option("--role", required=True, type=click.Choice(["school_admin", "coordinator", "teacher", "canteen"]))
@click.option("--class", "class_ids", multiple=True, help="класс учителя (код класса); можно несколько раз")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True, help="адрес офиса для ссылки")
def user_invite(school_id: str, login: str, role: str, class_ids: tuple[str, ...], base_url: str) -> None:
    """Пригласить пользователя офиса (первого администратора школы): показать одноразовую ссылку."""
    from server.office.users import UserError, invite

    engine = _engine()
    try:
        with engine.begin() as conn:
            _user_id, token, expires = invite(conn, "cli", school_id, login, role, list(class_ids))
    except UserError as exc:
        _die(str(exc))
    finally:
        engine.dispose()
    click.echo(f"Ссылка для {login} (действует один раз, до {expires:%d.%m.%Y}):")
    click.echo(f"{base_url.rstrip('/')}/office/link/{token}")


def _today_of(conn: Any, school_id: str) -> date:
    from server.office.changes import NotFound, today

    try:
        return today(conn, school_id)
    except NotFound as exc:
        _die(str(exc))


@server.group()
def benefits() -> None:
    """Льготы: заявления и решения комиссии."""


@benefits.command("overdue")
@click.argument("school_id")
def benefits_overdue(school_id: str) -> None:
    """Заявления без решения комиссии после срока (10 рабочих дней; поданные летом — до 7 сентября)."""
    from server.office import benefits as office_benefits

    engine = _engine()
    try:
        with engine.connect() as conn:
            today = _today_of(conn, school_id)
            rows = office_benefits.overdue(conn, school_id, today)
    finally:
        engine.dispose()
    if not rows:
        click.echo(f"Просроченных решений по заявлениям в школе {school_id} нет.")
        return
    click.echo(f"Заявления без решения после срока ({len(rows)}), на {today:%d.%m.%Y}:")
    for a in rows:
        click.echo(f"  {a['registered_on']:%d.%m.%Y} {a['full_name']} ({a['class_id']}): {a['category_title']} — "
                   f"срок решения {a['decision_due']:%d.%m.%Y}, заявление {a['id']}")


@server.command("student")
@click.argument("school_id")
@click.argument("query")
def student_cmd(school_id: str, query: str) -> None:
    """Найти ученика по ФИО или номеру карты; одного найденного — показать карточкой."""
    from pos.domain import Meal
    from pos.money import format_rub
    from server.office import roster

    engine = _engine()
    try:
        with engine.connect() as conn:
            today = _today_of(conn, school_id)
            found = roster.search_students(conn, school_id, query, day=today, include_left=True)
            card = roster.student_card(conn, school_id, found[0]["id"], day=today) if len(found) == 1 else None
    finally:
        engine.dispose()
    if card is None:
        if not found:
            click.echo(f"По запросу «{query}» никого не найдено.")
        for s in found:
            click.echo(f"  {s['id']}: {s['full_name']}, {s['class_name']}"
                       f"{', ' + ', '.join(s['categories']) if s['categories'] else ''}")
        return
    birth = f", дата рождения {card['birth_date']:%d.%m.%Y}" if card["birth_date"] else ""
    click.echo(f"{card['full_name']} (код {card['id']}), класс {card['class_name']}{birth}"
               f"{'' if card['active'] else ' — не обучается в школе'}")
    if card["diet_note"]:
        click.echo(f"Особенности питания: {card['diet_note']}")
    for c in card["cards"]:
        click.echo(f"Карта {c['uid']}" + (f" — заблокирована: {c['blocked_reason']}" if c["blocked"] else ""))
    for e in card["entitlements"]:
        ends = f"{e['ends']:%d.%m.%Y}" if e["ends"] else "без срока"
        click.echo(f"Льгота: {e['category_title'] or e['category']}, с {e['starts']:%d.%m.%Y} по {ends}"
                   + (f", приказ № {e['order_no']}" if e["order_no"] else "")
                   + ("" if e["in_force"] else " (не действует)"))
    click.echo(f"Баланс: {format_rub(card['account']['balance_kopecks'])}")
    for line in card["account"]["statement"][-10:]:
        click.echo(f"  {line['at']:%d.%m.%Y %H:%M} {line['text']}: {format_rub(line['amount_kopecks'])}, "
                   f"остаток {format_rub(line['balance_kopecks'])}")
    for day in card["meals"]:
        click.echo(f"  {day['day']:%d.%m.%Y}: {', '.join(Meal(m).ru if m in set(Meal) else m for m in day['meals'])}")


@server.command("reviews")
@click.argument("school_id")
@click.option("--open", "only_open", is_flag=True, help="только нерешённые")
@click.option("--from", "start", default=None, type=click.DateTime(["%Y-%m-%d", "%d.%m.%Y"]),
              help="первый день (по умолчанию 30 дней назад)")
@click.option("--to", "end", default=None, type=click.DateTime(["%Y-%m-%d", "%d.%m.%Y"]),
              help="последний день (по умолчанию сегодня)")
@click.option("--format", "form", type=click.Choice(["text", "csv", "xlsx"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="файл (для xlsx обязателен, если вывод — терминал)")
def reviews_cmd(school_id: str, only_open: bool, start: datetime | None, end: datetime | None, form: str,
                output: Path | None) -> None:
    """Сверка: расхождения и отметки событий к разбору, с решениями."""
    from pos.money import format_rub
    from server.office import reviews
    from server.office.reviews import KINDS

    engine = _engine()
    try:
        with engine.connect() as conn:
            today, _tz = reviews.school_today(conn, school_id)
            first, last = reviews.default_period(today)
            filters = reviews.Filters(start.date() if start else first, end.date() if end else last,
                                      status="open" if only_open else "all")
            q = reviews.queue(conn, school_id, filters)
    except reviews.ReviewError as exc:
        _die(exc.message)
    finally:
        engine.dispose()
    if form == "xlsx":
        data = reviews.to_xlsx(q)
        if output is None and sys.stdout.isatty():
            _die("XLSX не выводится на экран: укажите файл, --output сверка.xlsx")
    elif form == "csv":
        data = reviews.to_csv(q).encode("utf-8")
    else:
        lines = [f"Сверка {school_id} с {q.filters.start:%d.%m.%Y} по {min(q.filters.end, q.today):%d.%m.%Y}:"]
        for e in q.entries:
            it, r = e.item, e.resolution
            done = f"; {reviews.REASONS.get(r.reason, r.reason)}, {r.resolved_by}" if r else ""
            lines.append(f"  {e.key.day:%d.%m.%Y} {it.class_name:>4} {it.student_name or it.subject}: "
                         f"{reviews.meal_name(it.meal) or '—'} — {KINDS[it.kind]} ×{it.count}, "
                         f"{format_rub(it.kopecks)} [{reviews.STATUSES[e.status]}{done}]")
        if not q.entries:
            lines.append("  расхождений нет")
        for kind, count in q.counts().items():
            if count["open"] or count["resolved"]:
                lines.append(f"Итого «{KINDS[kind]}»: открыто {count['open']} "
                             f"({format_rub(count['open_kopecks'])}), решено {count['resolved']}")
        data = ("\n".join(lines) + "\n").encode("utf-8")
    if output is not None:
        output.write_bytes(data)
        click.echo(f"Записано: {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@server.command("menu-file")
@click.argument("school_id")
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d", "%d.%m.%Y"]))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="папка (например food сайта школы)")
def menu_file_cmd(school_id: str, day: datetime, out: Path) -> None:
    """Файл ежедневного меню для мониторинга (ГД-1158/01): OUT/ГГГГ-ММ-ДД-sm.xlsx."""
    from server.office.changes import NotFound
    from server.office.menu_file import file_name, food_file

    try:
        with _transaction() as conn:
            data = food_file(conn, school_id, day.date())
    except NotFound as exc:
        _die(str(exc))
    if data is None:
        _die(f"меню на {day:%d.%m.%Y} в школе {school_id} нет: файл не создан")
    try:
        out.mkdir(parents=True, exist_ok=True)
        path = out / file_name(day.date())
        path.write_bytes(data)
    except OSError as exc:
        _die(f"файл в папке {out} не записан: {exc.strerror or exc}")
    click.echo(f"Записан {path}")


def _usage(message: str) -> NoReturn:
    """A wrong argument: the Russian reason and exit code 2, as for any usage error."""
    click.echo(f"ОШИБКА: {message}", err=True)
    sys.exit(2)


@server.command("kitchen-order")
@click.argument("school_id")
@click.option("--date", "day_text", default="", help="день ГГГГ-ММ-ДД или ДД.ММ.ГГГГ (по умолчанию следующий учебный)")
@click.option("--format", "form", default="json", show_default=True, help="xlsx, csv или json")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="файл; csv и json без него — на экран, xlsx — в kitchen-order-<школа>-<дата>.xlsx")
def kitchen_order_cmd(school_id: str, day_text: str, form: str, out: Path | None) -> None:
    """Заявка на пищеблок на день: на срок подачи заявок, изменения после срока (как страница «Пищеблок»)."""
    from datetime import UTC

    from server.office import kitchen
    from server.office.changes import NotFound, OfficeError
    from server.office.dates import parse_day

    if form not in kitchen.FORMATS:
        _usage(f"--format: xlsx, csv или json, а не «{form[:40]}»")
    try:
        day = parse_day(day_text) if day_text else None
    except OfficeError as exc:
        _usage(f"--date: {exc}")
    engine = _engine()
    try:
        with engine.connect() as conn:
            now = datetime.now(UTC)
            order = kitchen.kitchen_order(conn, school_id, day or kitchen.next_school_day(conn, school_id, now), now)
    except NotFound as exc:
        _die(str(exc))
    finally:
        engine.dispose()
    if form == "xlsx":
        data = kitchen.to_xlsx(order)
        out = out or Path(kitchen.file_name(order, "xlsx"))
    elif form == "csv":
        data = kitchen.to_csv(order).encode("utf-8")
    else:
        data = (json.dumps(kitchen.to_json(order), ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        _die(f"файл {out} не записан: {exc.strerror or exc}")
    click.echo(f"Записано: {out}", err=True)


# ---- the registers (`server.reports`, tabel helper) ----

@server.command("report")
@click.argument("kind")
@click.argument("school_id")
@click.option("--month", "month_text", required=True, help="месяц ГГГГ-ММ")
@click.option("--class", "class_id", default="", help="код класса (табель — обязательно)")
@click.option("--format", "form", default="json", show_default=True, help="xlsx, pdf, csv или json")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="файл; csv и json без него — на экран, xlsx и pdf — в <вид>-<школа>-<месяц>.<формат>")
@click.option("--submitted", is_flag=True, help="отметить, что отчёт сдан (в журнале выгрузок)")
def report_cmd(kind: str, school_id: str, month_text: str, class_id: str, form: str, out: Path | None,
               submitted: bool) -> None:
    """Отчёт за месяц: tabel (табель класса), milk (молоко), monthly (отчёт школы) и другие виды."""
    import getpass

    from server.reports import KINDS
    from server.reports.common import NoSchool, ReportError, parse_month
    from server.reports.exports import check_format, export

    try:
        if kind not in KINDS:
            raise ReportError(f"вид отчёта: {', '.join(KINDS)}, а не «{kind[:40]}»")
        check_format(form)
        month = parse_month(month_text)
    except ReportError as exc:
        _usage(str(exc))
    engine = _engine()
    try:
        with engine.begin() as conn:
            done = export(conn, f"консоль:{getpass.getuser()}", school_id, kind, month, class_id or None, form,
                          submitted=submitted)
    except NoSchool as exc:
        _die(str(exc))
    except ReportError as exc:
        _usage(str(exc))
    finally:
        engine.dispose()
    if out is None and form in ("xlsx", "pdf"):
        out = Path(done.filename)
    if out is None:
        sys.stdout.buffer.write(done.data)
        sys.stdout.flush()
        return
    try:
        out.write_bytes(done.data)
    except OSError as exc:
        _die(f"файл {out} не записан: {exc.strerror or exc}")
    click.echo(f"Записано: {out}", err=True)


# ---- the school calendar (`server.office.calendar`) ----

@server.group("calendar")
def calendar_group() -> None:
    """Календарь школы: учебный год, неделя, срок заявки, праздники и каникулы, дни без занятий классов."""


def _cli_day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    _die(f"{name}: дата ДД.ММ.ГГГГ, а не «{text[:40]}»")


@calendar_group.command("show")
@click.argument("school_id")
@click.option("--from", "start", default=None, help="первый день, ДД.ММ.ГГГГ")
@click.option("--to", "end", default=None, help="последний день")
def calendar_show(school_id: str, start: str | None, end: str | None) -> None:
    """Учебный год, неделя, срок заявки, праздники и каникулы, дни без занятий классов."""
    from server.office import calendar as cal
    from server.office.changes import OfficeError, today

    engine = _engine()
    try:
        with engine.connect() as conn:
            s = cal.settings(conn, school_id)
            first, last = cal.default_period(conn, school_id, today(conn, school_id))
            first, last = _cli_day(start, "--from") or first, _cli_day(end, "--to") or last
            holidays = cal.holiday_ranges(conn, school_id, first, last)
            days_off = cal.day_off_ranges(conn, school_id, start=first, end=last)
    except OfficeError as exc:
        _die(str(exc))
    finally:
        engine.dispose()
    year = f"{s.year_starts:%d.%m.%Y}–{s.year_ends:%d.%m.%Y}" if s.year_starts and s.year_ends else "не задан"
    click.echo(f"Учебный год: {year}; неделя: {s.week_text}; срок заявки: {s.order_deadline}")
    click.echo(f"Праздники и каникулы {first:%d.%m.%Y}–{last:%d.%m.%Y}:")
    for h in holidays:
        click.echo(f"  {h.period}  {h.reason}")
    for o in days_off:
        click.echo(f"  {o.class_name}: {o.period}  {o.reason}  ({o.added_by or '—'})")


@calendar_group.command("set")
@click.argument("school_id")
@click.option("--year", nargs=2, default=None, help="первый и последний день учебного года, ДД.ММ.ГГГГ")
@click.option("--week", type=click.Choice(["5", "6"]), default=None, help="учебная неделя: 5 или 6 дней")
@click.option("--deadline", default=None, help="срок заявки ЧЧ:ММ (время школы)")
def calendar_set(school_id: str, year: tuple[str, str] | None, week: str | None, deadline: str | None) -> None:
    """Задать учебный год, неделю, срок заявки (терминалы получат их при следующей синхронизации)."""
    from server.office import calendar as cal
    from server.office.changes import OfficeError

    try:
        with _transaction() as conn:
            s = cal.set_settings(conn, "cli", school_id,
                                 year_starts=_cli_day(year[0], "--year") if year else None,
                                 year_ends=_cli_day(year[1], "--year") if year else None,
                                 days_per_week=int(week) if week else None, order_deadline=deadline)
    except OfficeError as exc:
        _die(str(exc))
    click.echo(f"Сохранено. Неделя: {s.week_text}; срок заявки: {s.order_deadline}.")


@calendar_group.command("import")
@click.argument("school_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_import(school_id: str, path: Path) -> None:
    """Нерабочие дни из файла CSV/XLSX: столбцы «с», «по», «причина», «класс» (необязательный); всё или ничего."""
    from server.office import calendar as cal
    from server.office.changes import OfficeError

    try:
        with _transaction() as conn:
            seen = cal.preview_file(conn, school_id, path.read_bytes(), path.name)
            if not seen.ok:
                _die("Ничего не загружено:\n" + "\n".join(f"  {e}" for e in seen.errors[:50]))
            cal.import_file(conn, "cli", school_id, path.read_bytes(), path.name)
    except OfficeError as exc:
        _die(str(exc))
    click.echo(f"Загружено строк: {len(seen.rows)}.")


@server.group("policy")
def policy_group() -> None:
    """Политика питания школы по учебным годам."""


@policy_group.command("set")
@click.argument("school_id")
@click.argument("file")
def policy_set(school_id: str, file: str) -> None:
    """Задать политику на учебный год из файла (год — из файла; имя поставляемой тоже годится: nazarovo-2026)."""
    from server.history import school_year_label
    from server.office import history
    from server.office.changes import OfficeError

    shipped = shipped_policies()
    path = shipped[file] if file in shipped else Path(file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _die(f"не удалось прочитать файл {path}: {exc.strerror}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _die("файл политики не в кодировке UTF-8")
    try:
        with _transaction() as conn:
            done = history.set_policy(conn, "cli", school_id, text)
    except OfficeError as exc:
        _die(str(exc))
    click.echo(f"Политика {done.policy_id} сохранена на {school_year_label(done.school_year)} учебный год"
               + (": текущий год, терминалы получат её при следующей синхронизации." if done.current else "."))


@policy_group.command("list")
@click.argument("school_id")
def policy_list(school_id: str) -> None:
    """Политики школы по учебным годам."""
    from server.office import history
    from server.office.changes import OfficeError

    try:
        with _transaction() as conn:
            years = history.list_policies(conn, school_id)
    except OfficeError as exc:
        _die(str(exc))
    if not years:
        click.echo("Политик нет: ни один день не оценивается.")
    for y in years:
        marks = ", ".join(m for m, on in (("текущий год", y.current), ("на терминалах", y.at_terminals)) if on)
        click.echo(f"{y.label}: {y.policy_id} — {y.region}; {y.source}" + (f" ({marks})" if marks else ""))


@server.group("notices")
def notices_group() -> None:
    """Уведомления родителям по электронной почте (настройки SMTP: CANTEEN_SMTP_*, см. server.notice_sender)."""


@notices_group.command("send")
@click.option("--once", is_flag=True, help="отправить, что пора, и выйти (иначе — работать постоянно)")
@click.option("--interval", default=30.0, show_default=True, type=click.FloatRange(1, 3600),
              help="пауза в секундах, когда отправлять нечего")
def notices_send(once: bool, interval: float) -> None:
    """Отправить уведомления из очереди; неудачные — повторить позже (1, 5, 15, 60 минут…)."""
    from server import notice_sender

    try:
        config = notice_sender.SmtpConfig.from_env()
    except ConfigError as exc:
        _die(str(exc))
    engine = _engine()
    try:
        total = notice_sender.run(engine, config, once=once, interval_s=interval, report=lambda o: click.echo(
            f"Отправлено: {o.sent}, не отправлено (повтор позже): {o.failed}."), warn=lambda m: click.echo(m, err=True))
    except KeyboardInterrupt:
        return
    finally:
        engine.dispose()
    if once and not (total.sent or total.failed):
        click.echo("Отправлять нечего.")
@server.group("payments")
def payments_group() -> None:
    """Платежи из банка: реестры платежей (Сбербанк, таблица CSV/XLSX)."""


@payments_group.command("import")
@click.argument("school_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "sber", "csv"]), default="auto",
              help="формат реестра (по умолчанию — по содержимому файла)")
@click.option("--apply", "do_apply", is_flag=True, help="зачислить платежи без конфликтов (без флага: только показать)")
def payments_import(school_id: str, path: Path, fmt: str, do_apply: bool) -> None:
    """Реестр платежей банка: показать строки или (--apply) зачислить; конфликты остаются на разбор."""
    from pos.money import format_rub
    from server.office import payments
    from server.office.changes import OfficeError

    try:
        data = path.read_bytes()
    except OSError as exc:
        _die(f"файл {path} не читается: {exc.strerror or exc}")
    try:
        with _transaction() as conn:
            if do_apply:
                seen, done = payments.apply(conn, "cli", school_id, data, path.name, fmt)
            else:
                seen, done = payments.preview(conn, school_id, payments.parse(data, path.name, fmt)), None
    except OfficeError as exc:
        _die(str(exc))
    reg = seen.register
    click.echo(f"Реестр «{reg.filename}» ({reg.fmt}): строк {len(seen.rows)} на {format_rub(reg.total)}"
               + (f"; {reg.totals_checked}" if reg.totals_checked else "") + ".")
    for row in seen.rows:
        if row.status in ("conflict", "known"):
            click.echo(f"  строка {row.line}: {payments.KINDS.get(row.kind, row.kind)} — {row.message}")
    if done is None:
        click.echo(f"К зачислению: {len(seen.of('new'))} на {format_rub(seen.new_kopecks)}; уже загружены: "
                   f"{len(seen.of('done'))}; конфликтов: {len(seen.of('conflict'))}. Ничего не записано "
                   "(зачислить: --apply).")
    else:
        click.echo(f"Зачислено: {done.applied} на {format_rub(done.applied_kopecks)}; уже загружены: {done.already}; "
                   f"новых конфликтов: {done.conflicts} (реестр № {done.import_id}).")
@server.group("district")
def district_group() -> None:
    """Управления образования: их школы и пользователи (настраивает ИТ-служба один раз)."""


@district_group.command("add")
@click.argument("district_id")
@click.option("--name", required=True, help="например «Управление образования г. Назарово»")
def district_add(district_id: str, name: str) -> None:
    """Добавить управление образования (или переименовать)."""
    from server import district
    from server.office.changes import OfficeError

    try:
        with _transaction() as conn:
            district.add(conn, "cli", district_id, name)
    except OfficeError as exc:
        _die(str(exc))
    click.echo(f"Управление образования {district_id} сохранено.")


@district_group.command("attach")
@click.argument("district_id")
@click.argument("school_ids", nargs=-1, required=True)
def district_attach(district_id: str, school_ids: tuple[str, ...]) -> None:
    """Прикрепить школы к управлению образования."""
    from server import district
    from server.office.changes import OfficeError

    try:
        with _transaction() as conn:
            district.attach(conn, "cli", district_id, list(school_ids))
    except OfficeError as exc:
        _die(str(exc))
    click.echo(f"Школ прикреплено к {district_id}: {len(school_ids)}.")


@district_group.command("user")
@click.argument("district_id")
@click.argument("login")
@click.option("--name", default="", help="имя сотрудника")
def district_user(district_id: str, login: str, name: str) -> None:
    """Добавить пользователя управления образования (пароль — как у `admin add`)."""
    from server import district
    from server.office.changes import OfficeError

    password = os.environ.get(PASSWORD_ENV) or _ask_password()
    try:
        with _transaction() as conn:
            district.add_user(conn, district_id, login, name=name, password=password)
    except OfficeError as exc:
        _die(str(exc))
    click.echo(f"Пользователь {login} управления образования {district_id} добавлен.")
