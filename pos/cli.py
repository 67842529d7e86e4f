"""The `canteen` command. Subcommands come from the ``canteen.commands`` entry points, so each package
(pos, drivers, terminal, sync, server) adds its own without pos importing any adapter.
"""

from __future__ import annotations

import json
import sys
import time as clock
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from pos.domain import ru_date
from pos.money import format_rub
from pos.policy import EligibilityError, PolicyError, load_policy, shipped_policies


class _Commands(click.Group):
    """Loads subcommands lazily from entry points: a broken adapter cannot break the others."""

    def _eps(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group="canteen.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self._eps()) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        ep = self._eps().get(name)
        if ep is None:
            return None
        command: click.Command = ep.load()
        return command


@click.group(cls=_Commands)
def main() -> None:
    """Школьная столовая: терминал раздачи, считыватели, синхронизация, сервер."""


def _policy_path(name: str) -> Path:
    shipped = shipped_policies()
    return shipped[name] if name in shipped else Path(name)


@click.group()
def policy() -> None:
    """Региональные правила питания: проверка и объяснение."""


@policy.command("check")
@click.argument("file")
def policy_check(file: str) -> None:
    """Проверить файл политики (или имя поставляемой: nazarovo-2021, ryazan-2024, kirovsk-2020)."""
    try:
        p = load_policy(_policy_path(file))
    except PolicyError as exc:
        click.echo(f"ОШИБКА: {exc}", err=True)
        sys.exit(1)
    cap = f", дневной лимит {format_rub(p.daily_cap)}" if p.daily_cap else ""
    click.echo(f"OK: {p.id} — {p.region}, {p.school_year[0]}-{p.school_year[1]} уч. год: "
               f"{len(p.categories)} категорий, {len(p.rules)} правил, {len(p.prices)} строк цен{cap}")
    for cid, title in p.categories.items():
        click.echo(f"  {cid}: {title}")


@policy.command("explain")
@click.argument("file")
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d", "%d.%m.%Y"]))
@click.option("--grade", required=True, type=click.IntRange(1, 11))
@click.option("--birth-date", type=click.DateTime(["%Y-%m-%d", "%d.%m.%Y"]))
@click.option("--shift", required=True, type=click.IntRange(1, 2))
@click.option("--category", "categories", multiple=True)
def policy_explain(file: str, day: datetime, grade: int, birth_date: datetime | None, shift: int,
                   categories: tuple[str, ...]) -> None:
    """Какие приёмы пищи ученик получает бесплатно в этот день (JSON)."""
    try:
        p = load_policy(_policy_path(file))
        result = p.explain(day=day.date(), grade=grade, shift=shift, categories=categories,
                           birth_date=birth_date.date() if birth_date else None)
    except (PolicyError, EligibilityError) as exc:
        click.echo(f"ОШИБКА: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps(result, ensure_ascii=False))


@click.command()
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="файл базы демо-школы (по умолчанию var/demo.db)")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="день раздачи")
@click.option("--delay", type=float, default=0.0, help="пауза между касаниями, с")
@click.option("--keep", is_flag=True, help="не пересоздавать демо-школу, если база уже есть")
def demo(db: Path | None, day: datetime | None, delay: float, keep: bool) -> None:
    """Демо без экрана: школа из положения СОШ № 3 (Назарово) и раздача на первой перемене."""
    from pos import demo as school
    from pos.counter import Counter
    from pos.store import StoreError, make_engine

    path = db or school.default_db()
    fresh = not keep or not path.exists()
    if fresh:
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    try:
        engine = make_engine(path)
    except StoreError as exc:
        click.echo(f"ОШИБКА: {exc}", err=True)
        sys.exit(1)
    tz = ZoneInfo(school.TIMEZONE)
    serving_day = school.next_school_day(day.date() if day else datetime.now(tz).date())
    if fresh:
        built = school.build(engine, day=serving_day)
        click.echo(f"Демо-школа: {built.students} учеников, {built.cards} карт; база {path}")
    counter = Counter(engine)
    click.echo(f"Раздача {ru_date(serving_day)}, I смена, 1-я перемена (завтрак), терминал {counter.terminal_id}")
    served = refused = 0
    for at, card in school.breakfast_script(engine, serving_day):
        verdict = counter.tap_text(card, reader_id="sim", now=at.replace(tzinfo=tz).astimezone(UTC))
        who = f"{verdict.student.full_name} ({verdict.student.class_name})" if verdict.student else card
        money = f" −{format_rub(verdict.paid_kopecks)}" if verdict.paid_kopecks else ""
        notes = "".join(f" [{w}]" for w in verdict.warnings)
        click.echo(f"{at:%H:%M:%S} {verdict.headline:6} {who}: {verdict.message}{money}{notes} "
                   f"#{verdict.event_id or '-'}")
        sys.stdout.flush()
        served += verdict.served
        refused += not verdict.served
        if delay:
            clock.sleep(delay)
    click.echo(f"Итого: выдано {served}, отказов {refused}.")


if __name__ == "__main__":
    main()
