"""core.db's promises one by one (#21: tests that fail when a contract breaks): where the database
is, how it is opened (WAL, foreign keys, waiting for a lock), migrations applied once and in
order, what a failed one says, and transactions that commit or roll back as a whole."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from core import db as core_db
from core.db import (
    DEFAULT_DB,
    ENV_DB,
    Schema,
    applied_versions,
    apply_migrations,
    db_file,
    open_db,
    resolve_db_path,
    transaction,
    utc_now,
)
from core.errors import DlradarError


def _schema(component: str = "demo", calls: list[str] | None = None) -> Schema:
    schema = Schema(component)
    log = calls if calls is not None else []

    @schema.migration(2, "add a column")
    def _v2(db: sqlite_utils.Database) -> None:
        log.append(f"{component} v2")
        db.execute(f"ALTER TABLE {component} ADD COLUMN b TEXT")

    @schema.migration(1, "create the table")
    def _v1(db: sqlite_utils.Database) -> None:
        log.append(f"{component} v1")
        db.execute(f"CREATE TABLE {component} (a TEXT)")

    return schema


# -- where ---------------------------------------------------------------------------------------


def test_the_database_path_is_explicit_then_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_DB, raising=False)
    assert Path("data") / "dlradar.db" == DEFAULT_DB
    assert resolve_db_path() == tmp_path / "data" / "dlradar.db"
    monkeypatch.setenv(ENV_DB, "env.db")
    assert ENV_DB == "DLRADAR_DB"
    assert resolve_db_path() == tmp_path / "env.db"
    assert resolve_db_path("given.db") == tmp_path / "given.db"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_db_path("~/x.db") == tmp_path / "home" / "x.db"


def test_open_db_creates_the_directory_and_names_its_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "x.db"
    db = open_db(path)
    assert db_file(db) == path
    db.conn.close()


# -- how -----------------------------------------------------------------------------------------


def test_a_database_opens_in_wal_mode_with_foreign_keys_and_a_lock_wait(tmp_path: Path) -> None:
    db = open_db(tmp_path / "x.db")
    pragma = {
        name: db.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "cache_size")
    }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": 30_000,
        "cache_size": -65_536,
    }
    assert db.conn.isolation_level is None  # autocommit: transactions are explicit
    assert db.execute("SELECT fold_name('Émile Zoë')").fetchone()[0] == "Emile Zoe"
    db.conn.close()
    # Opened again: still WAL (the file keeps it).
    again = open_db(tmp_path / "x.db")
    assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.conn.close()


def test_fold_name_is_deterministic_so_an_index_can_use_it(tmp_path: Path) -> None:
    db = open_db(tmp_path / "x.db")
    db.execute("CREATE TABLE t (name TEXT)")
    db.execute("CREATE INDEX t_folded ON t (fold_name(name))")  # only deterministic functions
    db.conn.close()


def test_the_connection_serves_other_threads(tmp_path: Path) -> None:
    import threading

    db = open_db(tmp_path / "x.db")
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(db.execute("SELECT 1").fetchone()[0]))
    thread.start()
    thread.join()
    assert seen == [1]
    db.conn.close()


def test_without_migrate_no_migration_runs(tmp_path: Path) -> None:
    calls: list[str] = []
    db = open_db(tmp_path / "x.db", [_schema(calls=calls)], migrate=False)
    assert calls == [] and "_migrations" not in db.table_names()
    db.conn.close()


def test_a_file_that_is_no_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DlradarError) as caught:
        open_db(path)
    assert str(caught.value) == f"cannot open database {path}: file is not a database"


def test_a_directory_in_the_way_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    path = tmp_path / "file" / "x.db"
    with pytest.raises(DlradarError, match=rf"^cannot open database {re.escape(str(path))}: "):
        open_db(path)


def test_a_lock_conflict_at_open_is_waited_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite answers some conflicts at open without its busy handler: open_db tries again.
    real = core_db._connect
    answers = [sqlite3.OperationalError("database is locked"), sqlite3.OperationalError("busy")]
    sleeps: list[float] = []

    def flaky(*args: object, **kw: object) -> sqlite_utils.Database:
        if answers:
            raise answers.pop(0)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(core_db, "_connect", flaky)
    monkeypatch.setattr(core_db.time, "sleep", sleeps.append)
    db = open_db(tmp_path / "x.db")
    assert sleeps == [0.05, 0.05]
    db.conn.close()


def test_a_lock_that_outlasts_the_wait_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter([0.0, 10.0, 29.0, 30.0, 31.0])
    attempts: list[int] = []

    def locked(*args: object, **kw: object) -> sqlite_utils.Database:
        attempts.append(1)
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(core_db, "_connect", locked)
    monkeypatch.setattr(core_db.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(core_db.time, "sleep", lambda s: None)
    path = tmp_path / "x.db"
    with pytest.raises(DlradarError) as caught:
        open_db(path)
    assert str(caught.value) == f"cannot open database {path.resolve()}: database is locked"
    # Deadline 0 + 30 s: tried at 10 and 29 s, and given up at 30 s (not before).
    assert len(attempts) == 3


def test_an_operational_error_that_is_no_lock_is_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []

    def broken(*args: object, **kw: object) -> sqlite_utils.Database:
        attempts.append(1)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(core_db, "_connect", broken)
    with pytest.raises(DlradarError, match=r"disk I/O error$"):
        open_db(tmp_path / "x.db")
    assert attempts == [1]


def test_a_failure_while_opening_closes_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[bool] = []
    real_connect = sqlite3.connect

    class Connection(sqlite3.Connection):
        def close(self) -> None:
            closed.append(True)
            super().close()

    def connect(*args: object, **kw: object) -> sqlite3.Connection:
        return real_connect(*args, factory=Connection, **kw)  # type: ignore[arg-type, misc]

    def failing(db: sqlite_utils.Database, schemas: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(core_db.sqlite3, "connect", connect)
    monkeypatch.setattr(core_db, "apply_migrations", failing)
    with pytest.raises(RuntimeError, match="boom"):
        open_db(tmp_path / "x.db", [_schema()])
    assert closed == [True]


# -- migrations ----------------------------------------------------------------------------------


def test_migrations_run_once_in_version_order_and_are_recorded(tmp_path: Path) -> None:
    calls: list[str] = []
    first, second = _schema("first", calls), _schema("second", calls)
    assert [m.version for m in first.steps] == [1, 2]
    assert repr(first) == "Schema('first', v2)"
    db = open_db(tmp_path / "x.db", [first, second])
    assert calls == ["first v1", "first v2", "second v1", "second v2"]
    assert applied_versions(db) == {"first": 2, "second": 2}
    rows = db.execute("SELECT component, version, name, applied_at FROM _migrations").fetchall()
    assert [r[:3] for r in rows] == [
        ("first", 1, "create the table"),
        ("first", 2, "add a column"),
        ("second", 1, "create the table"),
        ("second", 2, "add a column"),
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r[3]) for r in rows)
    db.conn.close()
    again = open_db(tmp_path / "x.db", [first, second])
    assert calls == ["first v1", "first v2", "second v1", "second v2"]  # nothing again
    assert apply_migrations(again, [first, second]) == []
    again.conn.close()


def test_an_old_database_gets_only_the_newer_steps(tmp_path: Path) -> None:
    calls: list[str] = []
    old = Schema("demo")
    new = _schema("demo", calls)
    old.steps = new.steps[:1]
    db = open_db(tmp_path / "x.db", [old])
    assert applied_versions(db) == {"demo": 1}
    applied = apply_migrations(db, [new])
    assert [(m.component, m.version, m.name) for m in applied] == [("demo", 2, "add a column")]
    assert calls == ["demo v1", "demo v2"]
    assert applied_versions(db) == {"demo": 2}
    db.conn.close()


def test_a_step_another_process_applied_meanwhile_is_not_applied_again(tmp_path: Path) -> None:
    calls: list[str] = []
    schema = _schema("demo", calls)
    db = open_db(tmp_path / "x.db", [])
    # Recorded as applied, although `done` (read before the lock) did not know it yet.
    db.execute("INSERT INTO _migrations VALUES ('demo', 1, 'create the table', 'then')")
    db.execute("CREATE TABLE demo (a TEXT)")
    real = core_db.applied_versions
    core_db.applied_versions = lambda _db: {}  # type: ignore[assignment]
    try:
        applied = apply_migrations(db, [schema])
    finally:
        core_db.applied_versions = real
    assert [m.version for m in applied] == [2]
    assert calls == ["demo v2"]
    db.conn.close()


def test_applied_versions_of_a_database_without_migrations() -> None:
    assert applied_versions(sqlite_utils.Database(memory=True)) == {}


def test_a_duplicate_migration_is_refused() -> None:
    schema = Schema("demo")
    schema.migration(1, "one")(lambda db: None)
    with pytest.raises(RuntimeError, match=r"^duplicate migration demo v1$"):
        schema.migration(1, "again")(lambda db: None)


def test_a_failing_migration_is_rolled_back_and_named(tmp_path: Path) -> None:
    schema = Schema("demo")

    @schema.migration(1, "half done")
    def _v1(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE demo (a TEXT)")
        db.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(DlradarError) as caught:
        open_db(tmp_path / "x.db", [schema])
    assert str(caught.value) == "migration demo v1 (half done) failed: no such table: no_such_table"
    db = open_db(tmp_path / "x.db")
    assert "demo" not in db.table_names()  # rolled back as a whole
    assert applied_versions(db) == {}
    db.conn.close()


def test_a_migration_breaking_a_constraint_is_named(tmp_path: Path) -> None:
    schema = Schema("demo")

    @schema.migration(1, "duplicate rows")
    def _v1(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE demo (a TEXT PRIMARY KEY)")
        db.execute("INSERT INTO demo VALUES ('x'), ('x')")

    db = open_db(tmp_path / "x.db")
    with pytest.raises(DlradarError) as caught:
        apply_migrations(db, [schema])
    assert str(caught.value) == (
        "migration demo v1 (duplicate rows) failed: UNIQUE constraint failed: demo.a"
    )
    assert "demo" not in db.table_names()
    db.conn.close()


def test_a_lock_conflict_in_a_migration_is_left_to_open_db(tmp_path: Path) -> None:
    schema = Schema("demo")

    @schema.migration(1, "locked")
    def _v1(db: sqlite_utils.Database) -> None:
        raise sqlite3.OperationalError("database is locked")

    db = open_db(tmp_path / "x.db")
    with pytest.raises(sqlite3.OperationalError, match=r"^database is locked$"):
        apply_migrations(db, [schema])
    db.conn.close()


# -- transactions --------------------------------------------------------------------------------


def test_a_transaction_commits_or_rolls_back_as_a_whole(tmp_path: Path) -> None:
    db = open_db(tmp_path / "x.db")
    db.execute("CREATE TABLE t (a INTEGER)")
    with transaction(db) as same:
        assert same is db
        db.execute("INSERT INTO t VALUES (1)")
        assert db.conn.in_transaction
    assert not db.conn.in_transaction
    with pytest.raises(KeyboardInterrupt), transaction(db):
        db.execute("INSERT INTO t VALUES (2)")
        raise KeyboardInterrupt
    assert not db.conn.in_transaction
    assert [r[0] for r in db.execute("SELECT a FROM t")] == [1]
    db.conn.close()


def test_a_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    db = open_db(tmp_path / "x.db")
    other = sqlite3.connect(tmp_path / "x.db", timeout=0, isolation_level=None)
    # BEGIN IMMEDIATE: another writer is kept out before this one has written anything.
    with transaction(db), pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    db.conn.close()


def test_a_nested_transaction_joins_the_outer_one(tmp_path: Path) -> None:
    db = open_db(tmp_path / "x.db")
    db.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(ValueError), transaction(db):
        db.execute("INSERT INTO t VALUES (1)")
        with transaction(db) as inner:
            assert inner is db
            db.execute("INSERT INTO t VALUES (2)")
        assert db.conn.in_transaction  # the inner block did not commit
        raise ValueError
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
    db.conn.close()


def test_utc_now_is_whole_seconds_in_utc() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", utc_now())


def test_an_up_to_date_database_opens_while_another_connection_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Opening applies nothing, so it takes no write lock: the dashboard opens the database
    # while a fetch commits a page. (No waiting at all here, so a lock taken would fail.)
    schemas = [_schema("first"), _schema("second")]
    open_db(tmp_path / "x.db", schemas).conn.close()
    writer = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO first VALUES ('a', 'b')")
    monkeypatch.setattr(core_db, "LOCK_WAIT_SECONDS", 0)
    db = open_db(tmp_path / "x.db", schemas)
    assert applied_versions(db) == {"first": 2, "second": 2}
    db.conn.close()
    writer.execute("ROLLBACK")
    writer.close()


def test_the_connection_waits_for_a_lock_from_its_first_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The journal mode is read before `PRAGMA busy_timeout` is set: the connection's own
    # timeout covers that first statement.
    seen: list[object] = []
    real_connect = sqlite3.connect

    def connect(*args: object, **kw: object) -> sqlite3.Connection:
        seen.append(kw.get("timeout"))
        return real_connect(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(core_db.sqlite3, "connect", connect)
    open_db(tmp_path / "x.db").conn.close()
    assert seen == [30]
