"""Error pages of the office in Russian (the API keeps its JSON errors)."""

from __future__ import annotations

from flask import g, render_template, request
from werkzeug.wrappers import Response

TITLES = {
    400: ("Неверный запрос", "Форма устарела или заполнена не так. Обновите страницу и попробуйте ещё раз."),
    403: ("Нет доступа", "У вашей учётной записи нет прав на эту страницу."),
    404: ("Страница не найдена", "Такой страницы нет. Проверьте адрес или вернитесь на главную."),
    405: ("Неверный запрос", "Эта страница так не открывается."),
    413: ("Слишком большой файл", "Файл больше допустимого размера."),
    500: ("Ошибка на сервере", "Что-то пошло не так. Действие можно повторить; если ошибка останется, "
                                "сообщите администратору."),
}


def is_office_request() -> bool:
    return request.path == "/" or request.path.startswith(("/office", "/menu/", "/parent"))  # /menu/: the public menu


def office_error(code: int) -> tuple[Response | str, int]:
    g.office_error = True
    title, text = TITLES.get(code, TITLES[400] if 400 <= code < 500 else TITLES[500])
    return render_template("error.html", code=code, title=title, text=text), code
