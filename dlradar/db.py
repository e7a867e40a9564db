"""Owns the database: where it lives, how it is opened, and how its schema evolves.

Every component (tracker, bench, dashboard) declares its schema as an ordered list of
migrations; :func:`open_db` applies the ones a database has not seen yet, so an old
database opens in a new version. Nothing else in dlradar opens SQLite directly.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from dlradar.errors import DlradarError

DEFAULT_DB = Path("data") / "dlradar.db"
ENV_DB = "DLRADAR_DB"


@dataclass(frozen=True)
class Migration:
    """One step of a component's schema, applied once, in order, inside a transaction."""

    component: str
    version: int
    name: str
    apply: Callable[[sqlite_utils.Database], None]


_REGISTRY: dict[str, list[Migration]] = {}


def migration(
    component: str, version: int, name: str
) -> Callable[[Callable[[sqlite_utils.Database], None]], Callable[[sqlite_utils.Database], None]]:
    """Register a function as migration `version` of `component` (versions start at 1)."""

    def register(
        fn: Callable[[sqlite_utils.Database], None],
    ) -> Callable[[sqlite_utils.Database], None]:
        steps = _REGISTRY.setdefault(component, [])
        if any(m.version == version for m in steps):
            raise RuntimeError(f"duplicate migration {component} v{version}")
        steps.append(Migration(component, version, name, fn))
        steps.sort(key=lambda m: m.version)
        return fn

    return register


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--db PATH`, else $DLRADAR_DB, else data/dlradar.db under the working directory."""
    chosen = explicit or os.environ.get(ENV_DB) or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


COMPONENT_ORDER = ("tracker", "tagging", "discovery", "bench", "digest")
SCHEMA_MODULES = (
    "tracker.schema",
    "tracker.tagging.schema",
    "tracker.schema_discovery",
    "bench.schema",
    "dashboard.schema_digest",
)


def _load_schemas() -> None:
    # Importing a component's schema module registers its migrations.
    import importlib

    for name in SCHEMA_MODULES:
        importlib.import_module(name)


def open_db(
    path: str | os.PathLike[str] | None = None, *, migrate: bool = True
) -> sqlite_utils.Database:
    """Open (creating if needed) the database in WAL mode and bring its schema up to date."""
    db_path = resolve_db_path(path)
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(db_path, timeout=30, isolation_level=None, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        register_functions(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        # 64 MB of page cache: index inserts at a million papers stay in memory.
        db.execute("PRAGMA cache_size=-65536")
        if migrate:
            apply_migrations(db)
    except (sqlite3.Error, OSError) as exc:
        # Also a file that opens but cannot be read or written (a device, a read-only disk).
        raise DlradarError(f"cannot open database {db_path}: {exc}") from exc
    return db


def register_functions(conn: sqlite3.Connection) -> None:
    """SQL functions the queries use: fold_name(text) drops accents (tracker.normalize)."""
    from tracker.normalize import fold_name

    conn.create_function("fold_name", 1, fold_name, deterministic=True)


def db_file(db: sqlite_utils.Database) -> Path:
    """The file behind an open database (for a second connection to it)."""
    return Path(db.execute("PRAGMA database_list").fetchone()[2])


def applied_versions(db: sqlite_utils.Database) -> dict[str, int]:
    if "_migrations" not in db.table_names():
        return {}
    rows = db.execute("SELECT component, MAX(version) FROM _migrations GROUP BY component")
    return {component: int(version) for component, version in rows.fetchall()}


def apply_migrations(db: sqlite_utils.Database) -> list[Migration]:
    """Apply every registered migration this database lacks; returns the ones applied."""
    _load_schemas()
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (component TEXT NOT NULL, version INTEGER NOT NULL,"
        " name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version))"
    )
    done = applied_versions(db)
    applied: list[Migration] = []
    # Later components may refer to earlier ones' tables.
    order = {name: i for i, name in enumerate(COMPONENT_ORDER)}
    for component in sorted(_REGISTRY, key=lambda c: (order.get(c, len(order)), c)):
        for step in _REGISTRY[component]:
            if step.version <= done.get(component, 0):
                continue
            try:
                with transaction(db):
                    step.apply(db)
                    db.execute(
                        "INSERT INTO _migrations VALUES (?, ?, ?, ?)",
                        [step.component, step.version, step.name, utc_now()],
                    )
            except sqlite3.Error as exc:
                raise DlradarError(
                    f"migration {step.component} v{step.version} ({step.name}) failed: {exc}"
                ) from exc
            applied.append(step)
    return applied


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
