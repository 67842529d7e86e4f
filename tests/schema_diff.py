"""How a migrated database differs from the models: Alembic's comparison plus what it does not look at.

`compare_metadata` finds added or removed tables, columns and indexes, type and nullability changes,
foreign keys and named unique constraints; primary keys and unnamed unique constraints are compared
here from the reflected schema.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, UniqueConstraint, inspect


def schema_differences(conn: Connection, metadata: MetaData, *, version_table: str = "alembic_version") -> list[Any]:
    """Every difference between the database on `conn` and `metadata`; [] when they match."""
    context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True,
                                                     "version_table": version_table})
    differences: list[Any] = list(compare_metadata(context, metadata))
    reflected = inspect(conn)
    for table in metadata.sorted_tables:
        if not reflected.has_table(table.name):
            continue  # reported by compare_metadata
        primary_key = reflected.get_pk_constraint(table.name)["constrained_columns"]
        if primary_key != [c.name for c in table.primary_key.columns]:
            differences.append(("primary_key", table.name, primary_key, list(table.primary_key.columns.keys())))
        unique = {frozenset(u["column_names"]) for u in reflected.get_unique_constraints(table.name)}
        expected = {frozenset(c.name for c in k.columns) for k in table.constraints if isinstance(k, UniqueConstraint)}
        expected |= {frozenset({c.name}) for c in table.columns if c.unique}
        if unique != expected:
            differences.append(("unique", table.name, sorted(map(sorted, unique)), sorted(map(sorted, expected))))
    return differences
