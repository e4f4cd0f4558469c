"""The schema migration runner: brings a project database forward without losing a row.

A migration is one step or a tuple of steps; a step is an SQL script or a Python callable taking the connection.
Entry ``i`` of a migration list moves the schema from version ``i`` to ``i + 1`` (``PRAGMA user_version``).

``apply`` runs every pending step in one transaction with foreign keys off, as SQLite's table-rebuild procedure
requires (with them on, ``DROP TABLE images`` cascade-deletes every box and caption). Before committing it runs
``PRAGMA foreign_key_check`` and refuses a migration that leaves a dangling reference. An existing database is first
copied beside itself with SQLite's backup API; the copy is deleted once the migration has committed and is kept
(and named in the error) when it fails.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

Step = str | Callable[[sqlite3.Connection], None]
Migration = Step | tuple[Step, ...]


class MigrationError(RuntimeError):
    """A migration was refused or failed; the message names the database, the versions and the backup."""


def version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database (0 for a new file)."""
    return conn.execute("PRAGMA user_version").fetchone()[0]


def apply(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    """Apply the migrations the database lacks, all in one transaction; return the version reached.

    ``conn`` must be in autocommit mode (``isolation_level=None``) and outside a transaction. Raises
    ``MigrationError`` for a database newer than ``migrations`` knows, or when a migration fails; the database is
    then as it was before.
    """
    target = len(migrations)
    current = version(conn)
    database = _database_path(conn)
    if current > target:
        raise MigrationError(
            f"{database or 'this project'} was written by a newer VLM Studio (schema {current}, this version "
            f"knows {target}); update VLM Studio to open it"
        )
    if current == target:
        return target
    if conn.in_transaction:
        raise MigrationError(f"{database or 'the database'}: cannot migrate inside an open transaction")
    backup = _back_up(conn, database, current) if current and database else None
    foreign_keys = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction, hence before BEGIN
    try:
        _run(conn, migrations, current, target)
    except BaseException as exc:
        restored = _undo(conn, backup)
        if not isinstance(exc, Exception):
            raise
        raise MigrationError(_failure(exc, database, current, target, backup, restored)) from exc
    finally:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
    if backup is not None:
        backup.unlink(missing_ok=True)
    return target


def statements(script: str) -> list[str]:
    """Split an SQL script into statements (``executescript`` would commit behind our back)."""
    found, buffer = [], ""
    for line in script.splitlines():
        line = line.split("--", 1)[0]
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            found.append(buffer.strip())
            buffer = ""
    return [s for s in found if s]


def _run(conn: sqlite3.Connection, migrations: Sequence[Migration], current: int, target: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    for number in range(current, target):
        migration = migrations[number]
        for step in migration if isinstance(migration, tuple) else (migration,):
            if isinstance(step, str):
                for statement in statements(step):
                    conn.execute(statement)
            else:
                step(conn)
            if not conn.in_transaction:
                name = "an SQL step" if isinstance(step, str) else f"step {getattr(step, '__name__', step)}"
                raise RuntimeError(f"{name} of the migration to schema {number + 1} ended the transaction")
        conn.execute(f"PRAGMA user_version = {number + 1}")
    dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
    if dangling:
        raise RuntimeError(_dangling(dangling))
    conn.execute("COMMIT")


def _dangling(rows: list[tuple]) -> str:
    """Describe ``PRAGMA foreign_key_check`` rows (table, rowid, parent, fkid) as a sentence."""
    counts: dict[tuple[str, str], int] = {}
    for table, _rowid, parent, _fkid in rows:
        counts[(table, parent)] = counts.get((table, parent), 0) + 1
    parts = [f"{count} row(s) of {table} point at missing {parent} rows" for (table, parent), count in counts.items()]
    return "it would leave broken references: " + "; ".join(parts)


def _undo(conn: sqlite3.Connection, backup: Path | None) -> bool:
    """Roll the failed migration back, or restore the backup if a step committed; False if neither worked."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
        return True
    if backup is None:
        return False
    source = sqlite3.connect(backup)
    try:
        source.backup(conn)
        return True
    except sqlite3.Error:
        return False
    finally:
        source.close()


def _failure(
    exc: Exception, database: str, current: int, target: int, backup: Path | None, restored: bool
) -> str:
    where = f"{database}: " if database else ""
    failed = f"{where}migrating the schema from version {current} to {target} failed ({exc})."
    if not restored:
        copy = f"copy {backup} over {database} to get it back" if backup is not None else "it may be damaged"
        return f"{failed} The project could not be put back as it was; {copy}."
    kept = f"; a copy made before the attempt is at {backup}" if backup is not None else ""
    return f"{failed} The project was left unchanged at version {current}{kept}."


def _database_path(conn: sqlite3.Connection) -> str:
    """The file of the connection's main database ('' for an in-memory one)."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or ""
    return ""


def _back_up(conn: sqlite3.Connection, database: str, current: int) -> Path:
    """Checkpoint the WAL and copy the database beside itself; never overwrites an earlier backup."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = Path(f"{database}.v{current}.backup")
    attempt = 1
    while backup.exists():
        attempt += 1
        backup = Path(f"{database}.v{current}-{attempt}.backup")
    target = sqlite3.connect(backup)
    try:
        conn.backup(target)
    except sqlite3.Error as exc:
        target.close()
        backup.unlink(missing_ok=True)
        raise MigrationError(
            f"{database}: could not copy the project to {backup} before migrating it from schema {current} ({exc}); "
            "free some disk space and open it again"
        ) from exc
    target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    target.close()
    return backup

