"""bench/region.py builds a region and its users speak the real wire format (no Locust run here: it
monkey-patches the process with gevent, so the check runs in a child process of its own)."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import func, select

from server.db import make_server_engine
from server.models import Card, School, Student, Terminal
from tests.server.kit import ROOT

CHECK = """
import json, sys
from bench import region
from locust import FastHttpUser
from server.db import make_server_engine
from sync.wire import decode_push, encode_push, utc_iso
from datetime import UTC, datetime

assert all(issubclass(u, FastHttpUser) for u in (region.TerminalUser, region.OfficeUser, region.BacklogUser))
engine = make_server_engine(sys.argv[1])
plan = region.build(engine, schools=2, terminals=5, users=3, students=7)
events = region.serves(plan.terminals[0], 1, 3)
body = encode_push(utc_iso(datetime.now(UTC)), [json.dumps(e) for e in events])
decoded = decode_push(body)  # the server's fast path: None if any event were not valid
print(json.dumps({"terminals": [t.id for t in plan.terminals], "schools": sorted({t.school for t in plan.terminals}),
                  "office": plan.office, "backlog": plan.backlog.school, "cursor": plan.terminals[0].cursor,
                  "decoded": None if decoded is None else len(decoded[1])}))
"""


def test_the_region_builds_and_its_events_are_valid_pushes(db_url: str) -> None:
    done = subprocess.run([sys.executable, "-c", CHECK, db_url], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["decoded"] == 3
    assert out["schools"] == ["r000", "r001"] and len(out["terminals"]) == 5
    assert [school for _, school in out["office"]] == ["r000", "r001", "r000"]
    engine = make_server_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(School)).scalar_one() == 4  # + backlog, floor
            assert conn.execute(select(func.count()).select_from(Student)).scalar_one() == 4 * 7
            assert conn.execute(select(func.count()).select_from(Card)).scalar_one() == 4 * 7
            assert conn.execute(select(func.count()).select_from(Terminal)).scalar_one() == 5 + 1
            rev = conn.execute(select(School.rev).where(School.id == "r000")).scalar_one()
    finally:
        engine.dispose()
    assert out["cursor"] == f"{rev}:"
