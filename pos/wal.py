"""Copying the store's write-ahead log back into the database file while the window is idle."""

from __future__ import annotations

import sqlite3

from sqlalchemy import Engine


def checkpoint(engine: Engine) -> tuple[int, int]:
    """A PASSIVE checkpoint: never waits for, nor blocks, a tap. The store checkpoints by itself only
    every `WAL_AUTOCHECKPOINT_PAGES`, so this keeps that rare large checkpoint from landing on a
    child's tap. Returns the WAL's frames and how many of them are now in the database file."""
    raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
    try:
        db = raw.driver_connection
        assert isinstance(db, sqlite3.Connection)
        _busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        raw.close()
    return int(frames), int(copied)
