"""Every office route × every role × own/other school (and own/other class) answers as declared here.

The cases are generated from `app.url_map`: a route of the office blueprint missing from `EXPECTED`,
or without an `allow`/`public` declaration, fails the test.
"""

from __future__ import annotations

from itertools import product
from typing import Any

from flask import Flask, url_for
from sqlalchemy import delete, insert, update
from werkzeug.routing import Rule as UrlRule

from server.app import create_app
from server.history import school_year_of
from server.models import RoleGrant, User
from server.office.roles import Role
from server.office.users import add_user, invite
from server.web.auth import rule_of
from tests.server.kit import school_today
from tests.server.office.conftest import Office

STAFF = set(Role)  # every role may use a page that needs only a signed-in user
# endpoint -> the roles it opens (for routes with a school in the URL: in their own school only).
EXPECTED: dict[str, str | set[Role]] = {
    "office.static": "public",
    "office.root": "public",
    "office.login": "public",
    "office.link": "public",
    "office.logout": STAFF,
    "office.no_pages": STAFF,
    "office.today": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.today_table": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.class_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.users_page": {Role.SCHOOL_ADMIN},
    "office.invite": {Role.SCHOOL_ADMIN},
    "office.reset": {Role.SCHOOL_ADMIN},
    "office.remove": {Role.SCHOOL_ADMIN},
    "office.review_queue": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.review_resolve": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.review_export": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.terminals_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.terminal_add": {Role.SCHOOL_ADMIN},
    "office.terminal_rename": {Role.SCHOOL_ADMIN},
    "office.terminal_revoke": {Role.SCHOOL_ADMIN},
    "office.rejected_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.import_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.import_preview": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.import_confirm": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.students": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.students_results": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.student_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.student_diet": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.student_move": {Role.SCHOOL_ADMIN, Role.COORDINATOR},  # a class from a date (server.office.history)
    # «Политика»: the school admin sets a year's policy, the coordinator reads
    "office.policy_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.policy_file": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.policy_set": {Role.SCHOOL_ADMIN},
    "office.card_issue": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.card_block": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.card_replace": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.benefits_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.benefit_new": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.benefit_documents": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.benefit_decide": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.benefit_order": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.benefit_lists": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.menu_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.menu_day": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.menu_edit": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.menu_row": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.menu_import_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.menu_import_preview": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.menu_import_confirm": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.public_menu": "public",
    "office.public_menu_day": "public",
    "office.food_index": "public",
    "office.food_download": "public",
    "office.kitchen_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    "office.kitchen_send": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.kitchen_export": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.CANTEEN},
    # «Календарь»: the teacher reads it and changes own class's days off (403 for another class: test_calendar_pages)
    "office.calendar_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.calendar_settings": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.calendar_holiday_add": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.calendar_holiday_remove": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.calendar_day_off_add": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.calendar_day_off_remove": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.calendar_import": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.calendar_import_preview": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.calendar_import_confirm": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.order_home": {Role.TEACHER},
    "office.class_order": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.class_order_submit": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.class_standing": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.orders_overview": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    # «Отчёты» (tabel helper): a teacher sees the own class's табель (other kinds and classes: test_tabel_pages)
    "office.reports_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.report_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.report_export": {Role.SCHOOL_ADMIN, Role.COORDINATOR, Role.TEACHER},
    "office.parcels_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.parcels_issue": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.parcels_remove": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    # the parent's choice of e-mail notices (server.web.notice_pages): a parent grant anywhere, no school in the URL
    "office.parent_notices": {Role.PARENT},
    "office.parent_notices_save": {Role.PARENT},
    # «Платежи»: bank payment registers and their conflicts (server.office.payments)
    "office.payments_page": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.payments_preview": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.payments_apply": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.payments_resolve": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    # parents (server.parents): the entry pages are public, the children list any signed-in user's (staff see
    # none); a child's pages only a parent whose grant names the child (s1 of sch1: "own class's student")
    "office.parent_login": "public",
    "office.parent_register": "public",
    "office.parent_home": STAFF,
    "office.parent_link": STAFF,
    "office.parent_child": {Role.PARENT},
    "office.parent_menu": {Role.PARENT},
    "office.parent_orders": {Role.PARENT},
    "office.parent_orders_save": {Role.PARENT},
    "office.parent_limit": {Role.PARENT},
    "office.parent_card_block": {Role.PARENT},
    "office.parent_letters": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.parent_letters_print": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    # the district (управление образования): its own district's pages only (another district's: test_district)
    "office.district_day": {Role.DISTRICT},
    "office.district_month": {Role.DISTRICT},
    "office.district_rollup": {Role.DISTRICT},
    "office.district_submission": {Role.DISTRICT},
    "office.district_decide": {Role.DISTRICT},
    "office.report_submit": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
    "office.school_submission": {Role.SCHOOL_ADMIN, Role.COORDINATOR},
}
# Roles whose grants name classes or students, not a whole school: the teacher's class 1а, the parent's child s1.
CLASS_SCOPED = {Role.TEACHER, Role.PARENT}


def office_rules(app: Flask) -> list[UrlRule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("office.") or r.rule == "/"]


def undeclared(app: Flask) -> list[str]:
    """Office routes without an `allow`/`public` declaration or without an expected answer here."""
    bad = []
    for r in office_rules(app):
        view = app.view_functions[r.endpoint]
        if r.endpoint != "office.static" and rule_of(view) is None:
            bad.append(f"{r.rule}: no allow()/public declaration")
        if r.endpoint not in EXPECTED:
            bad.append(f"{r.rule}: no expected answers in EXPECTED")
    return bad


def test_every_office_route_declares_who_may_use_it(office: Office) -> None:
    assert undeclared(office.app) == []


def test_a_route_without_a_declaration_is_caught() -> None:
    app = create_app({"database_url": "sqlite://", "secret_key": "x"})
    app.add_url_rule("/office/<school_id>/secret", "office.secret", lambda school_id: "open")
    assert undeclared(app) == ["/office/<school_id>/secret: no allow()/public declaration",
                               "/office/<school_id>/secret: no expected answers in EXPECTED"]


def _variants(rule: UrlRule, office: Office, token: str) -> list[tuple[str, dict[str, Any], bool]]:
    """(name, URL arguments, whether the URL is inside the grants of a school-wide/class role)."""
    args = rule.arguments
    base: dict[str, Any] = {}
    if "user_id" in args:
        base["user_id"] = 0  # the victim's, filled in per request
    if "token" in args:
        base["token"] = token
    if "filename" in args:
        base["filename"] = "pico.min.css"
    if "day" in args:
        base["day"] = "2026-12-04"
    if "name" in args:
        base["name"] = "2026-12-04-sm.xlsx"  # a day without a menu: its file is not there
    if "kind" in args:
        base["kind"] = "tabel"  # the register a teacher may see too
    if "app_id" in args:
        base["app_id"] = "no-such-application"  # a refused or unknown one answers inside the page, never a 500
    if "submission_id" in args or "district_id" in args:
        base["submission_id"] = _submission(office)
    if "district_id" in args:  # the district user holds "nazarovo" (sch1); "achinsk" has sch2
        if "kind" in args:
            base["kind"] = "monthly"
        if "submission_id" not in args:
            del base["submission_id"]
        return [("own district", {**base, "district_id": "nazarovo"}, True),
                ("other district", {**base, "district_id": "achinsk"}, False)]
    if "school_year" in args:
        base["school_year"] = school_year_of(school_today())  # the seeded school's policy year
    if "student_id" in args:  # s1 is in the teacher's class 1а, s3 in 5а
        return [("own class's student", {**base, "school_id": "sch1", "student_id": "s1"}, True),
                ("other class's student", {**base, "school_id": "sch1", "student_id": "s3"}, False),
                ("other school", {**base, "school_id": "sch2", "student_id": "s1"}, False)]
    if "class_id" in args:
        return [("own class", {**base, "school_id": "sch1", "class_id": "1а"}, True),
                ("other class", {**base, "school_id": "sch1", "class_id": "5а"}, False),
                ("other school", {**base, "school_id": "sch2", "class_id": "1а"}, False)]
    if "school_id" in args:
        return [("own school", {**base, "school_id": "sch1"}, True),
                ("other school", {**base, "school_id": "sch2"}, False)]
    return [("no scope", base, True)]


def _submission(office: Office) -> int:
    """sch1's monthly report submitted to its district (made once; the districts too)."""
    from server import district

    last_month = district.add_months(school_today().replace(day=1), -1)  # over: its report may be sent

    with office.engine.begin() as conn:
        if not district.schools(conn, "nazarovo"):
            district.add(conn, "it", "nazarovo", "Назарово")
            district.add(conn, "it", "achinsk", "Ачинск")
            district.attach(conn, "it", "nazarovo", ["sch1"])
            district.attach(conn, "it", "achinsk", ["sch2"])
            district.submit(conn, "coordinator", "sch1", "monthly", last_month)
        found = district.of_schools(conn, ["sch1"], "monthly", last_month)
    return found["sch1"].id


def _restore(office: Office, victim: int) -> int:
    """The victim is a coordinator of sch1 again before each request, for reset and remove to act on."""
    with office.engine.begin() as conn:
        conn.execute(delete(RoleGrant).where(RoleGrant.user_id == victim))
        conn.execute(insert(RoleGrant).values(user_id=victim, role="coordinator", scope_kind="school",
                                              school_id="sch1", scope_id=""))
        conn.execute(update(User).where(User.id == victim).values(active=True))
    return victim


def test_each_route_role_and_scope_gets_its_expected_answer(office: Office) -> None:
    office.app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own test; here only the roles count
    with office.engine.begin() as conn:
        _uid, token, _exp = invite(conn, "admin", "sch1", "newcomer", "canteen")
        victim = add_user(conn, "victim")
    wrong = []
    for rule in office_rules(office.app):
        expected = EXPECTED.get(rule.endpoint)
        if expected is None:
            continue  # reported by the declaration test
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        for (variant, args, in_scope), role in product(_variants(rule, office, token), [None, *Role]):
            if "user_id" in args:
                args = {**args, "user_id": _restore(office, victim)}
            with office.app.test_request_context():
                url = url_for(rule.endpoint, **args)
            response = office.client(role).open(url, method=method)
            got = response.status_code
            response.close()  # a static file's response holds the file open until closed
            if expected == "public":
                want = {302} if rule.endpoint == "office.root" else {404} if "name" in args else {200}
                ok = got in want
            elif role is None:  # sent to sign in: parents on their own page
                login = "/parent/login" if url == "/parent" or url.startswith("/parent/") else "/office/login"
                ok = got == 302 and login in response.headers.get("Location", "")
            else:
                assert isinstance(expected, set)
                allowed = role in expected and (
                    "school_id" not in args or
                    (args["school_id"] == "sch1" and (in_scope or role not in CLASS_SCOPED))) and (
                    "district_id" not in args or in_scope)
                success = {200} if method == "GET" else {200, 302, 303, 422}
                ok = got in success if allowed else got == 403
            if not ok:
                wrong.append(f"{method} {url} as {role.value if role else 'anonymous'} ({variant}): {got}")
    assert wrong == []
