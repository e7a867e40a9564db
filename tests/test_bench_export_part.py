"""A fleet node sends its run in parts as results are measured (bench.store.export_run_part):
a result committed while a part is being read is sent with the next part, never skipped (the
fleet test lost one configuration in a few runs out of many)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import store
from dlradar.database import open_db


def _failed(model: str) -> store.ResultRecord:
    return store.ResultRecord(
        model=model, family="cnn", backend="torch", device="cpu", batch_size=1,
        threads_intra=1, threads_inter=1, status="failed", stage="build", error="fixture",
    )  # fmt: skip


def test_a_result_committed_during_an_export_comes_with_the_next_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "node.db"
    db = open_db(path)
    run_id = store.create_run(db, profile="quick", environment={}, config={}, peak_id=None)
    store.save_result(db, run_id, _failed("first"))
    harness = open_db(path)  # the node's harness writes through its own connection
    export_run = store.export_run

    def export_while_the_harness_writes(reader: object, wanted: int) -> dict[str, object]:
        exported = export_run(reader, wanted)  # type: ignore[arg-type]
        store.save_result(harness, wanted, _failed("second"))
        return exported

    monkeypatch.setattr(store, "export_run", export_while_the_harness_writes)
    part, last = store.export_run_part(db, run_id, 0)
    monkeypatch.undo()
    assert [r["model"] for r in part["results"]] == ["first"]
    part, last = store.export_run_part(db, run_id, last)
    assert [r["model"] for r in part["results"]] == ["second"]
