"""Owns the database: where it lives, how it is opened, and how its schema evolves.

Every component (tracker, bench, the digest) declares its schema as an ordered list of
migrations (a :class:`Schema`); :func:`open_db` applies the ones of the schemas it is given that a
database has not seen yet, so an old database opens in a new version. Nothing else in dlradar
opens SQLite directly. The base knows no part: the list of schemas is the caller's.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from core.errors import DlradarError
from core.names import fold_name

DEFAULT_DB = Path("data") / "dlradar.db"
ENV_DB = "DLRADAR_DB"
# How long opening waits for another process's write lock (a migration, a page commit).
LOCK_WAIT_SECONDS = 30


@dataclass(frozen=True)
class Migration:
    """One step of a component's schema, applied once, in order, inside a transaction."""

    component: str
    version: int
    name: str
    apply: Callable[[sqlite_utils.Database], None]


class Schema:
    """A component's tables as an ordered list of migrations (versions start at 1).

    Each part declares its own (`SCHEMA = Schema("tracker")`, then `@SCHEMA.migration(1, ...)`);
    whoever opens the database passes the schemas it needs, in order, as an explicit list.
    """

    def __init__(self, component: str) -> None:
        self.component = component
        self.steps: list[Migration] = []

    def migration(
        self, version: int, name: str
    ) -> Callable[
        [Callable[[sqlite_utils.Database], None]], Callable[[sqlite_utils.Database], None]
    ]:
        """Register a function as migration `version` of this component."""

        def register(
            fn: Callable[[sqlite_utils.Database], None],
        ) -> Callable[[sqlite_utils.Database], None]:
            if any(m.version == version for m in self.steps):
                raise RuntimeError(f"duplicate migration {self.component} v{version}")
            self.steps.append(Migration(self.component, version, name, fn))
            self.steps.sort(key=lambda m: m.version)
            return fn

        return register

    def __repr__(self) -> str:
        return f"Schema({self.component!r}, v{len(self.steps)})"


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--db PATH`, else $DLRADAR_DB, else data/dlradar.db under the working directory."""
    chosen = explicit or os.environ.get(ENV_DB) or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


def open_db(
    path: str | os.PathLike[str] | None = None,
    schemas: Sequence[Schema] = (),
    *,
    migrate: bool = True,
) -> sqlite_utils.Database:
    """Open (creating if needed) the database in WAL mode and bring `schemas` up to date."""
    db_path = resolve_db_path(path)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            return _connect(db_path, schemas, migrate=migrate)
        except sqlite3.OperationalError as exc:
            # SQLite answers some lock conflicts at open without calling the busy handler
            # (switching a new file to WAL while another process creates it): wait and retry,
            # which is safe because every migration re-checks under the write lock.
            if _is_lock_conflict(exc) and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise DlradarError(f"cannot open database {db_path}: {exc}") from exc
        except (sqlite3.Error, OSError) as exc:
            # Also a file that opens but cannot be read or written (a device, a read-only disk).
            raise DlradarError(f"cannot open database {db_path}: {exc}") from exc


def _connect(db_path: Path, schemas: Sequence[Schema], *, migrate: bool) -> sqlite_utils.Database:
    conn = sqlite3.connect(
        db_path, timeout=LOCK_WAIT_SECONDS, isolation_level=None, check_same_thread=False
    )
    try:
        db = sqlite_utils.Database(conn)
        register_functions(conn)
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")
        # 64 MB of page cache: index inserts at a million papers stay in memory.
        db.execute("PRAGMA cache_size=-65536")
        if migrate:
            apply_migrations(db, schemas)
    except BaseException:
        conn.close()
        raise
    return db


def _is_lock_conflict(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def register_functions(conn: sqlite3.Connection) -> None:
    """SQL functions the queries use: fold_name(text) drops accents (core.names)."""
    conn.create_function("fold_name", 1, fold_name, deterministic=True)


def db_file(db: sqlite_utils.Database) -> Path:
    """The file behind an open database (for a second connection to it)."""
    return Path(db.execute("PRAGMA database_list").fetchone()[2])


def applied_versions(db: sqlite_utils.Database) -> dict[str, int]:
    if "_migrations" not in db.table_names():
        return {}
    rows = db.execute("SELECT component, MAX(version) FROM _migrations GROUP BY component")
    return {component: int(version) for component, version in rows.fetchall()}


def apply_migrations(db: sqlite_utils.Database, schemas: Sequence[Schema]) -> list[Migration]:
    """Apply every migration of `schemas` this database lacks, in the order given (a later
    component may refer to an earlier one's tables); returns the ones applied."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (component TEXT NOT NULL, version INTEGER NOT NULL,"
        " name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version))"
    )
    done = applied_versions(db)
    applied: list[Migration] = []
    for schema in schemas:
        for step in schema.steps:
            if step.version <= done.get(schema.component, 0):
                continue
            try:
                with transaction(db):
                    # Another process may have applied it since `done` was read: the write lock
                    # is held now, so this second look is the one that counts.
                    if _is_applied(db, step):
                        continue
                    step.apply(db)
                    db.execute(
                        "INSERT INTO _migrations VALUES (?, ?, ?, ?)",
                        [step.component, step.version, step.name, utc_now()],
                    )
            except sqlite3.OperationalError as exc:
                if _is_lock_conflict(exc):
                    raise  # open_db waits and tries again
                raise DlradarError(
                    f"migration {step.component} v{step.version} ({step.name}) failed: {exc}"
                ) from exc
            except sqlite3.Error as exc:
                raise DlradarError(
                    f"migration {step.component} v{step.version} ({step.name}) failed: {exc}"
                ) from exc
            applied.append(step)
    return applied


def _is_applied(db: sqlite_utils.Database, step: Migration) -> bool:
    row = db.execute(
        "SELECT 1 FROM _migrations WHERE component = ? AND version = ?",
        [step.component, step.version],
    ).fetchone()
    return row is not None


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (the connection is in autocommit)."""
    conn = db.conn
    if conn.in_transaction:
        # Nested use joins the outer transaction: atomicity is the outer block's.
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def utc_now() -> str:
    """Current time as an ISO-8601 UTC timestamp with seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
